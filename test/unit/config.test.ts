import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { evaluateConfig } from '../../src/config/evaluate-config.js';
import { accept } from '../../src/config/formats.js';
import { explainConfig, loadConfig } from '../../src/config/load-config.js';
import { AUTH_METHODS, DB_TYPES, HOST_KEY_CHECKING, LOG_LEVELS, RESET_MODES, TLS_MODES } from '../../src/config/modes.js';
import { settings, type SettingEntry } from '../../src/config/schema.js';
import { createDb } from '../../src/db/create-db.js';
import { DbSwitchError } from '../../src/errors.js';

const SECRET = 'Zq9!xK7#vW2$';

describe('loadConfig', () => {
  it('applies the documented defaults and freezes the result', () => {
    const config = loadConfig({ env: { DB_USER: 'app' }, cwd: dir() });
    expect(config.db).toEqual({
      type: 'basic',
      host: '127.0.0.1',
      port: 3306,
      user: 'app',
      password: undefined,
      database: undefined,
      socketPath: undefined,
      charset: 'utf8mb4',
      tls: 'disabled',
      tlsCaPath: undefined,
      auth: 'password',
      secretId: undefined,
      initSql: undefined,
      statementTimeoutMs: 0,
      connectTimeoutMs: 10_000,
    });
    expect(config.pool).toEqual({
      max: 10,
      acquireTimeoutMs: 10_000,
      idleTimeoutMs: 60_000,
      maxLifetimeMs: 1_800_000,
      pingAfterIdleMs: 5_000,
      lingerMs: 10_000,
      resetOnRelease: 'auto',
      closeTimeoutMs: 10_000,
    });
    expect(config.ssh).toMatchObject({ port: 22, strictHostKeyChecking: 'yes', localPort: 0, keepaliveIntervalMs: 15_000 });
    expect(config.log).toEqual({ level: 'info', queries: false });
    expect(Object.isFrozen(config) && Object.isFrozen(config.db)).toBe(true);
    expect(() => {
      (config.db as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('makes aws default to verify-full TLS and IAM auth', () => {
    const config = loadConfig({ env: { DB_TYPE: 'aws', DB_USER: 'app', AWS_REGION: 'eu-west-1' }, cwd: dir() });
    expect(config.db).toMatchObject({ tls: 'verify-full', auth: 'iam' });
  });

  it('layers defaults < dbswitch.json < dbswitch.<NODE_ENV>.json < DB_CONFIG_FILE < code < env, and .env fills gaps', () => {
    const cwd = dir();
    writeJson(cwd, 'config/dbswitch.json', { db: { host: 'from-file', port: 1001, database: 'd', charset: 'latin1' } });
    writeJson(cwd, 'config/dbswitch.staging.json', { db: { port: 1002, database: 'staging' } });
    writeJson(cwd, 'extra.json', { db: { database: 'extra', user: 'file-user' }, pool: { max: 3 } });
    writeFile(cwd, '.env', 'DB_NAME=from-dotenv\nDB_PASSWORD=dotenv-password\nDB_PORT=9999\n');
    const { config, sources } = explainConfig({
      env: { NODE_ENV: 'staging', DB_CONFIG_FILE: 'extra.json', DB_PORT: '3307', DB_USER: '' },
      config: { pool: { max: 4 } },
      cwd,
    });
    expect(config.db).toMatchObject({
      host: 'from-file',
      charset: 'latin1',
      port: 3307,
      database: 'from-dotenv',
      user: 'file-user',
      password: 'dotenv-password',
    });
    expect(config.pool.max).toBe(4);
    expect(sources.get('db.host')).toEqual({ kind: 'file', path: join(cwd, 'config/dbswitch.json') });
    expect(sources.get('db.port')).toEqual({ kind: 'env', name: 'DB_PORT' });
    expect(sources.get('db.database')).toEqual({ kind: 'dotenv', name: 'DB_NAME', path: join(cwd, '.env') });
    expect(sources.get('db.user')).toEqual({ kind: 'file', path: join(cwd, 'extra.json') });
    expect(sources.get('pool.max')).toEqual({ kind: 'code' });
    expect(sources.get('pool.lingerMs')).toEqual({ kind: 'default' });
  });

  it('lets null in a higher layer unset a value from a lower one', () => {
    const cwd = dir();
    writeJson(cwd, 'config/dbswitch.json', { db: { database: 'd' } });
    expect(loadConfig({ env: { DB_USER: 'a' }, config: { db: { database: null } }, cwd }).db.database).toBeUndefined();
  });

  it('takes undefined from createDb({ config }) as not set, so the layer below shows through', () => {
    const cwd = dir();
    writeJson(cwd, 'config/dbswitch.json', { db: { database: 'd' } });
    const input = JSON.parse('{"db": {}}') as { db: Record<string, unknown> };
    input.db['database'] = undefined;
    expect(loadConfig({ env: { DB_USER: 'a' }, config: input, cwd }).db.database).toBe('d');
  });

  it('accepts numbers and booleans from files and strings from the environment', () => {
    const cwd = dir();
    writeJson(cwd, 'config/dbswitch.json', { pool: { max: 7 }, log: { queries: true } });
    expect(loadConfig({ env: { DB_USER: 'a' }, cwd })).toMatchObject({ pool: { max: 7 }, log: { queries: true } });
    expect(loadConfig({ env: { DB_USER: 'a', DB_POOL_MAX: '8', DB_LOG_QUERIES: '0' }, cwd })).toMatchObject({
      pool: { max: 8 },
      log: { queries: false },
    });
  });

  it('resolves ~ and relative paths', () => {
    const cwd = dir();
    const config = loadConfig({ env: { DB_USER: 'a', HOME: '/home/someone', SSH_PRIVATE_KEY_PATH: '', DB_SOCKET: 'run/db.sock' }, cwd });
    expect(config.ssh.knownHostsPath).toBe('/home/someone/.ssh/known_hosts');
    expect(config.db.socketPath).toBe(join(cwd, 'run/db.sock'));
  });

  it('gives every setting its own value (the resolver reads each key from its own place)', () => {
    const cwd = dir();
    const env: Record<string, string> = { HOME: '/home/someone' };
    const expected = new Map<string, unknown>();
    settings.forEach((setting, index) => {
      const raw = distinctValue(setting, index);
      env[setting.env] = raw;
      const value = accept(setting.format, raw);
      expected.set(setting.key, PATH_KEYS.has(setting.key) ? resolve(cwd, String(value)) : value);
    });
    const { config } = evaluateConfig({ env, cwd });
    for (const setting of settings) {
      const actual = new Map<string, unknown>(Object.entries(config[setting.section])).get(setting.name);
      expect({ key: setting.key, value: actual }).toEqual({ key: setting.key, value: expected.get(setting.key) });
    }
  });

  const bad: { name: string; env?: Record<string, string>; file?: unknown; expect: string[] }[] = [
    { name: 'unknown DB_TYPE', env: { DB_TYPE: 'postgres' }, expect: ['db.type (DB_TYPE)', 'must be one of: basic, aws, ssh', 'got "postgres" from env DB_TYPE'] },
    { name: 'missing DB_USER', env: { DB_USER: '' }, expect: ['db.user (DB_USER)', 'is required', 'DB_SECRET_ID'] },
    { name: 'port not a number', env: { DB_PORT: 'abc' }, expect: ['db.port (DB_PORT)', 'must be a whole number from 1 to 65535', 'got "abc"'] },
    { name: 'port with trailing junk', env: { DB_PORT: '3306x' }, expect: ['db.port (DB_PORT)', 'whole number'] },
    { name: 'port out of range', env: { DB_PORT: '70000' }, expect: ['db.port (DB_PORT)', 'from 1 to 65535'] },
    { name: 'TLS mode not in the set', env: { DB_TLS: 'sometimes' }, expect: ['db.tls (DB_TLS)', 'disabled, required, verify-ca, verify-full'] },
    { name: 'pool.max zero', env: { DB_POOL_MAX: '0' }, expect: ['pool.max (DB_POOL_MAX)', 'from 1 to 10000'] },
    { name: 'negative timeout', env: { DB_POOL_ACQUIRE_TIMEOUT_MS: '-5' }, expect: ['pool.acquireTimeoutMs (DB_POOL_ACQUIRE_TIMEOUT_MS)', 'ms'] },
    { name: 'boolean spelled yes', env: { DB_LOG_QUERIES: 'yes' }, expect: ['log.queries (DB_LOG_QUERIES)', 'true or false'] },
    { name: 'log level unknown', env: { DB_LOG_LEVEL: 'loud' }, expect: ['log.level (DB_LOG_LEVEL)', 'fatal, error, warn, info, debug, trace, silent'] },
    { name: 'strict host key checking', env: { SSH_STRICT_HOST_KEY_CHECKING: 'maybe' }, expect: ['ssh.strictHostKeyChecking (SSH_STRICT_HOST_KEY_CHECKING)', 'yes, accept-new, no'] },
    { name: 'bad fingerprint', env: { SSH_HOST_KEY_FINGERPRINT: 'MD5:aa:bb' }, expect: ['ssh.hostKeyFingerprint (SSH_HOST_KEY_FINGERPRINT)', 'SHA256:'] },
    { name: 'unknown key in a config file', file: { db: { hots: 'x' } }, expect: ['unknown key "db.hots"', 'config/dbswitch.json', 'did you mean "db.host" (DB_HOST)?'] },
    { name: 'unknown section in a config file', file: { database: { host: 'x' } }, expect: ['unknown key "database.host"', 'sections: db, aws, pool, ssh, log'] },
    { name: 'wrong type in a config file', file: { db: { port: '33o6' } }, expect: ['db.port (DB_PORT)', 'config/dbswitch.json'] },
    { name: 'config file not JSON', file: '{ db: ', expect: ['config/dbswitch.json is not valid JSON', 'line 1, column 3'] },
    { name: 'DB_CONFIG_FILE missing', env: { DB_CONFIG_FILE: 'nope.json' }, expect: ['nope.json (named by DB_CONFIG_FILE) does not exist'] },
    { name: 'CA file missing', env: { DB_TLS: 'verify-full', DB_TLS_CA: '/no/such/ca.pem' }, expect: ['db.tlsCaPath (DB_TLS_CA)', '/no/such/ca.pem'] },
    { name: 'CA with TLS disabled', env: { DB_TLS_CA: '/etc/hostname' }, expect: ['db.tls (DB_TLS)', 'DB_TLS_CA'] },
    { name: 'aws with TLS lowered', env: { DB_TYPE: 'aws', AWS_REGION: 'eu-west-1', DB_TLS: 'required' }, expect: ['db.tls (DB_TLS)', 'verify-full', 'cleartext'] },
    { name: 'aws without region', env: { DB_TYPE: 'aws' }, expect: ['aws.region (AWS_REGION)', 'is required'] },
    { name: 'iam with basic', env: { DB_AUTH: 'iam', AWS_REGION: 'eu-west-1' }, expect: ['db.auth (DB_AUTH)', 'DB_TYPE=aws'] },
    { name: 'password with iam', env: { DB_TYPE: 'aws', AWS_REGION: 'eu-west-1', DB_PASSWORD: SECRET }, expect: ['db.password (DB_PASSWORD)', 'DB_AUTH=iam'] },
    { name: 'ssh without bastion', env: { DB_TYPE: 'ssh' }, expect: ['ssh.host (SSH_HOST)', 'ssh.user (SSH_USER)', 'SSH_PRIVATE_KEY'] },
    { name: 'socket with ssh', env: { DB_TYPE: 'ssh', DB_SOCKET: '/tmp/x.sock', SSH_HOST: 'b', SSH_USER: 'u', SSH_AUTH_SOCK: '/a' }, expect: ['db.socketPath (DB_SOCKET)', 'basic'] },
    { name: 'missing private key file', env: { DB_TYPE: 'ssh', SSH_HOST: 'b', SSH_USER: 'u', SSH_PRIVATE_KEY_PATH: '/no/key' }, expect: ['ssh.privateKeyPath (SSH_PRIVATE_KEY_PATH)', '/no/key'] },
  ];

  for (const entry of bad) {
    it(`rejects ${entry.name}, naming the key and env var, without printing the secret`, () => {
      const cwd = dir();
      if (entry.file !== undefined) writeJson(cwd, 'config/dbswitch.json', entry.file);
      const err = configError(() => loadConfig({ env: { DB_USER: 'app', DB_PASSWORD: SECRET, ...entry.env }, cwd }));
      for (const part of entry.expect) expect(err.message).toContain(part);
      expectNoSecret(err.message, SECRET);
      expectNoSecret(JSON.stringify(err), SECRET);
      expectNoSecret(String(err.stack), SECRET);
    });
  }

  for (const setting of settings) {
    it(`rejects an invalid ${setting.key} in a config file, naming the key and ${setting.env}`, () => {
      const cwd = dir();
      // a string where a number, a Boolean or a mode is wanted; an object where text is wanted
      // (holding the secret, which a sensitive setting must not repeat)
      const invalid = accepts(setting, 'not-valid!') ? { nested: SECRET } : 'not-valid!';
      writeJson(cwd, 'config/dbswitch.json', { [setting.section]: { [setting.name]: invalid } });
      const err = configError(() => loadConfig({ env: { DB_USER: 'app' }, cwd }));
      expect(err.message).toContain(`${setting.key} (${setting.env})`);
      expect(err.message).toContain(join(cwd, 'config/dbswitch.json'));
      if (setting.sensitive === true) expectNoSecret(err.message, SECRET);
      else expect(err.message).toContain(JSON.stringify(invalid));
    });

    if (!accepts(setting, 'not-valid!')) {
      it(`rejects an invalid ${setting.env}, naming ${setting.key}`, () => {
        const err = configError(() => loadConfig({ env: { DB_USER: 'app', [setting.env]: 'not-valid!' }, cwd: dir() }));
        expect(err.message).toContain(`${setting.key} (${setting.env}): must be`);
        expect(err.message).toContain(`from env ${setting.env}`);
      });
    }
  }

  it('reports every problem at once', () => {
    const err = configError(() => loadConfig({ env: { DB_PORT: 'x', DB_TLS: 'y', DB_POOL_MAX: 'z' }, cwd: dir() }));
    expect(err.message).toContain('4 problems');
    for (const label of ['db.port (DB_PORT)', 'db.tls (DB_TLS)', 'pool.max (DB_POOL_MAX)', 'db.user (DB_USER)']) expect(err.message).toContain(label);
  });

  it('never shows a secret even when the secret itself is malformed', () => {
    const cwd = dir();
    writeJson(cwd, 'config/dbswitch.json', { db: { password: 123456789 }, ssh: { passphrase: [SECRET] } });
    const err = configError(() => loadConfig({ env: { DB_USER: 'a' }, cwd }));
    expect(err.message).toContain('db.password (DB_PASSWORD)');
    expect(err.message).toContain('ssh.passphrase (SSH_PASSPHRASE)');
    expectNoSecret(err.message, '123456789');
    expectNoSecret(err.message, SECRET);
  });

  it('rejects a wrong type from createDb({ config }), naming the key, its env var and the origin', () => {
    const err = configError(() => loadConfig({ env: { DB_USER: 'a' }, config: { db: { port: 'nope' as unknown as number } }, cwd: dir() }));
    expect(err.message).toContain('db.port (DB_PORT): must be a whole number from 1 to 65535; got "nope" from createDb({ config })');
  });

  it('binds a provider for every DB_TYPE without connecting', async () => {
    const cwd = dir();
    for (const env of [
      { DB_TYPE: 'basic', DB_USER: 'a' },
      { DB_TYPE: 'aws', DB_USER: 'a', AWS_REGION: 'eu-west-1' },
      { DB_TYPE: 'ssh', DB_USER: 'a', SSH_HOST: 'bastion', SSH_USER: 'ec2-user', SSH_AUTH_SOCK: '/tmp/agent' },
    ]) {
      const db = await createDb({ env, cwd });
      expect(db.stats.open).toBe(0);
      await db.close();
    }
  });

  it('requires verify-full TLS for IAM tokens through a bastion too', () => {
    const err = configError(() =>
      loadConfig({ env: { DB_TYPE: 'ssh', DB_AUTH: 'iam', AWS_REGION: 'eu-west-1', DB_USER: 'a', SSH_HOST: 'b', SSH_USER: 'u', SSH_AUTH_SOCK: '/a' }, cwd: dir() }),
    );
    expect(err.message).toContain('db.tls (DB_TLS): must be verify-full with DB_AUTH=iam');
  });
});

const PATH_KEYS = new Set(['db.socketPath', 'db.tlsCaPath', 'ssh.privateKeyPath', 'ssh.knownHostsPath']);
const MODE_VALUES: readonly string[] = [...DB_TYPES, ...TLS_MODES, ...AUTH_METHODS, ...HOST_KEY_CHECKING, ...LOG_LEVELS, ...RESET_MODES];

function accepts(setting: SettingEntry, value: unknown): boolean {
  try {
    accept(setting.format, value);
    return true;
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    return false;
  }
}

/** A valid string form for `setting` that differs from its default and from every other setting's. */
function distinctValue(setting: SettingEntry, index: number): string {
  const candidates = [String(100 + index), `v-${setting.key}`, `SHA256:${'A'.repeat(43)}`, ...MODE_VALUES, 'true'];
  const found = candidates.find((candidate) => accepts(setting, candidate) && accept(setting.format, candidate) !== setting.default);
  if (found === undefined) throw new Error(`no test value for ${setting.key}`);
  return found;
}

// Helpers (each config-*.test.ts file carries its own few: test files do not import each other).
const dirs: string[] = [];
afterEach(() => {
  for (const path of dirs.splice(0)) rmSync(path, { recursive: true, force: true });
});

/** A fresh working directory with no config/ and no .env. */
function dir(): string {
  const path = mkdtempSync(join(tmpdir(), 'dbswitch-config-'));
  dirs.push(path);
  return path;
}

function writeFile(cwd: string, relative: string, text: string): string {
  const path = join(cwd, relative);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

function writeJson(cwd: string, relative: string, value: unknown): string {
  return writeFile(cwd, relative, typeof value === 'string' ? value : JSON.stringify(value));
}

function configError(run: () => unknown): DbSwitchError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(DbSwitchError);
    expect((err as DbSwitchError).code).toBe('ECONFIG');
    return err as DbSwitchError;
  }
  throw new Error('expected an ECONFIG error');
}

/** Not even 4 characters in a row of the secret may appear. */
function expectNoSecret(text: string, secret: string): void {
  for (let i = 0; i + 4 <= secret.length; i++) expect(text).not.toContain(secret.slice(i, i + 4));
}
