import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { explainConfig, loadConfig } from '../../src/config/load-config.js';
import { createDb } from '../../src/create-db.js';
import { DbSwitchError } from '../../src/errors.js';
import { settings } from '../../src/config/schema.js';

const SECRET = 'pw-Zq9!never-print-me';
let cwd: string;

beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'dbswitch-config-'));
});
afterEach(() => {
  rmSync(cwd, { recursive: true, force: true });
});

function writeJson(relative: string, value: unknown): string {
  const path = join(cwd, relative);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
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

describe('loadConfig', () => {
  it('applies the documented defaults and freezes the result', () => {
    const config = loadConfig({ env: { DB_USER: 'app' }, cwd });
    expect(config.db).toMatchObject({ type: 'basic', host: '127.0.0.1', port: 3306, charset: 'utf8mb4', tls: 'disabled', auth: 'password' });
    expect(config.pool).toEqual({
      max: 10,
      acquireTimeoutMs: 10_000,
      idleTimeoutMs: 60_000,
      maxLifetimeMs: 1_800_000,
      pingAfterIdleMs: 5_000,
      lingerMs: 10_000,
      resetOnRelease: false,
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
    const config = loadConfig({ env: { DB_TYPE: 'aws', DB_USER: 'app', AWS_REGION: 'eu-west-1' }, cwd });
    expect(config.db).toMatchObject({ tls: 'verify-full', auth: 'iam' });
  });

  it('layers defaults < default.json < <NODE_ENV>.json < DB_CONFIG_FILE < code < env, and .env fills gaps', () => {
    writeJson('config/default.json', { db: { host: 'from-default', port: 1001, database: 'd', charset: 'latin1' } });
    writeJson('config/staging.json', { db: { port: 1002, database: 'staging' } });
    writeJson('extra.json', { db: { database: 'extra', user: 'file-user' }, pool: { max: 3 } });
    writeFileSync(join(cwd, '.env'), 'DB_NAME=from-dotenv\nDB_PASSWORD=dotenv-password\nDB_PORT=9999\n');
    const { config, sources } = explainConfig({
      env: { NODE_ENV: 'staging', DB_CONFIG_FILE: 'extra.json', DB_PORT: '3307', DB_USER: '' },
      config: { pool: { max: 4 } },
      cwd,
    });
    expect(config.db).toMatchObject({
      host: 'from-default',
      charset: 'latin1',
      port: 3307,
      database: 'from-dotenv',
      user: 'file-user',
      password: 'dotenv-password',
    });
    expect(config.pool.max).toBe(4);
    expect(sources.get('db.host')).toEqual({ kind: 'file', path: join(cwd, 'config/default.json') });
    expect(sources.get('db.port')).toEqual({ kind: 'env', name: 'DB_PORT' });
    expect(sources.get('db.database')).toEqual({ kind: 'dotenv', name: 'DB_NAME', path: join(cwd, '.env') });
    expect(sources.get('db.user')).toEqual({ kind: 'file', path: join(cwd, 'extra.json') });
    expect(sources.get('pool.max')).toEqual({ kind: 'code' });
    expect(sources.get('pool.lingerMs')).toEqual({ kind: 'default' });
  });

  it('accepts numbers and booleans from files and strings from the environment', () => {
    writeJson('config/default.json', { pool: { resetOnRelease: true, max: 7 }, log: { queries: true } });
    expect(loadConfig({ env: { DB_USER: 'a' }, cwd }).pool).toMatchObject({ resetOnRelease: true, max: 7 });
    expect(loadConfig({ env: { DB_USER: 'a', DB_POOL_RESET_ON_RELEASE: 'false', DB_LOG_QUERIES: '0' }, cwd })).toMatchObject({
      pool: { resetOnRelease: false },
      log: { queries: false },
    });
  });

  it('resolves ~ and relative paths', () => {
    const config = loadConfig({ env: { DB_USER: 'a', HOME: '/home/someone', SSH_PRIVATE_KEY_PATH: '' }, cwd });
    expect(config.ssh.knownHostsPath).toBe('/home/someone/.ssh/known_hosts');
  });

  const bad: { name: string; env?: Record<string, string>; file?: unknown; expect: string[] }[] = [
    { name: 'unknown DB_TYPE', env: { DB_TYPE: 'postgres' }, expect: ['db.type (env DB_TYPE)', 'must be one of: basic, aws, ssh', 'got "postgres" from env DB_TYPE'] },
    { name: 'missing DB_USER', env: { DB_USER: '' }, expect: ['db.user (env DB_USER)', 'is required', 'DB_SECRET_ID'] },
    { name: 'port not a number', env: { DB_PORT: 'abc' }, expect: ['db.port (env DB_PORT)', 'must be a whole number from 1 to 65535', 'got "abc"'] },
    { name: 'port with trailing junk', env: { DB_PORT: '3306x' }, expect: ['db.port (env DB_PORT)', 'whole number'] },
    { name: 'port out of range', env: { DB_PORT: '70000' }, expect: ['db.port (env DB_PORT)', 'from 1 to 65535'] },
    { name: 'TLS mode not in the set', env: { DB_TLS: 'sometimes' }, expect: ['db.tls (env DB_TLS)', 'disabled, required, verify-ca, verify-full'] },
    { name: 'pool.max zero', env: { DB_POOL_MAX: '0' }, expect: ['pool.max (env DB_POOL_MAX)', 'from 1 to 10000'] },
    { name: 'negative timeout', env: { DB_POOL_ACQUIRE_TIMEOUT_MS: '-5' }, expect: ['pool.acquireTimeoutMs (env DB_POOL_ACQUIRE_TIMEOUT_MS)', 'ms'] },
    { name: 'boolean spelled yes', env: { DB_LOG_QUERIES: 'yes' }, expect: ['log.queries (env DB_LOG_QUERIES)', 'true or false'] },
    { name: 'log level unknown', env: { LOG_LEVEL: 'loud' }, expect: ['log.level (env LOG_LEVEL)', 'fatal, error, warn, info, debug, trace, silent'] },
    { name: 'strict host key checking', env: { SSH_STRICT_HOST_KEY_CHECKING: 'maybe' }, expect: ['ssh.strictHostKeyChecking (env SSH_STRICT_HOST_KEY_CHECKING)', 'yes, accept-new, no'] },
    { name: 'bad fingerprint', env: { SSH_HOST_KEY_FINGERPRINT: 'MD5:aa:bb' }, expect: ['ssh.hostKeyFingerprint (env SSH_HOST_KEY_FINGERPRINT)', 'SHA256:'] },
    { name: 'unknown key in a config file', file: { db: { hots: 'x' } }, expect: ['unknown key "db.hots"', 'config/default.json', 'did you mean "db.host"'] },
    { name: 'unknown section in a config file', file: { database: { host: 'x' } }, expect: ['unknown key "database.host"', 'sections: db, aws, pool, ssh, log'] },
    { name: 'wrong type in a config file', file: { db: { port: '33o6' } }, expect: ['db.port (env DB_PORT)', 'config/default.json'] },
    { name: 'config file not JSON', file: '{ db: ', expect: ['config/default.json is not valid JSON'] },
    { name: 'DB_CONFIG_FILE missing', env: { DB_CONFIG_FILE: 'nope.json' }, expect: ['nope.json does not exist', 'DB_CONFIG_FILE'] },
    { name: 'CA file missing', env: { DB_TLS: 'verify-full', DB_TLS_CA: '/no/such/ca.pem' }, expect: ['db.tlsCaPath (env DB_TLS_CA)', '/no/such/ca.pem'] },
    { name: 'CA with TLS disabled', env: { DB_TLS_CA: '/etc/hostname' }, expect: ['db.tls (env DB_TLS)', 'DB_TLS_CA'] },
    { name: 'aws with TLS lowered', env: { DB_TYPE: 'aws', AWS_REGION: 'eu-west-1', DB_TLS: 'required' }, expect: ['db.tls (env DB_TLS)', 'verify-full', 'cleartext'] },
    { name: 'aws without region', env: { DB_TYPE: 'aws' }, expect: ['aws.region (env AWS_REGION)', 'is required'] },
    { name: 'iam with basic', env: { DB_AUTH: 'iam', AWS_REGION: 'eu-west-1' }, expect: ['db.auth (env DB_AUTH)', 'DB_TYPE=aws'] },
    { name: 'password with iam', env: { DB_TYPE: 'aws', AWS_REGION: 'eu-west-1', DB_PASSWORD: SECRET }, expect: ['db.password (env DB_PASSWORD)', 'DB_AUTH=iam'] },
    { name: 'ssh without bastion', env: { DB_TYPE: 'ssh' }, expect: ['ssh.host (env SSH_HOST)', 'ssh.user (env SSH_USER)', 'SSH_PRIVATE_KEY'] },
    { name: 'socket with ssh', env: { DB_TYPE: 'ssh', DB_SOCKET: '/tmp/x.sock', SSH_HOST: 'b', SSH_USER: 'u', SSH_AUTH_SOCK: '/a' }, expect: ['db.socketPath (env DB_SOCKET)', 'basic'] },
    { name: 'missing private key file', env: { DB_TYPE: 'ssh', SSH_HOST: 'b', SSH_USER: 'u', SSH_PRIVATE_KEY_PATH: '/no/key' }, expect: ['ssh.privateKeyPath (env SSH_PRIVATE_KEY_PATH)', '/no/key'] },
  ];

  for (const entry of bad) {
    it(`rejects ${entry.name}, naming the key and env var, without printing the secret`, () => {
      if (entry.file !== undefined) writeJson('config/default.json', entry.file);
      const err = configError(() => loadConfig({ env: { DB_USER: 'app', DB_PASSWORD: SECRET, ...entry.env }, cwd }));
      for (const part of entry.expect) expect(err.message).toContain(part);
      expect(err.message).not.toContain(SECRET);
      expect(JSON.stringify(err)).not.toContain(SECRET);
      expect(String(err.stack)).not.toContain(SECRET);
    });
  }

  for (const setting of settings) {
    it(`rejects an invalid ${setting.key} in a config file, naming the key and ${setting.env}`, () => {
      // a string where a number, a Boolean or a mode is wanted; a number where text is wanted
      const invalid = typeof setting.default === 'string' || setting.default === null ? 987654321 : 'not-valid!';
      writeJson('config/default.json', { [setting.section]: { [setting.name]: invalid } });
      const err = configError(() => loadConfig({ env: { DB_USER: 'app', DB_PASSWORD: SECRET }, cwd }));
      expect(err.message).toContain(`${setting.key} (env ${setting.env})`);
      expect(err.message).toContain('config/default.json');
      expect(err.message).not.toContain(SECRET);
      if (setting.sensitive === true) expect(err.message).not.toContain(String(invalid));
    });
  }

  it('reports every problem at once', () => {
    const err = configError(() => loadConfig({ env: { DB_PORT: 'x', DB_TLS: 'y', DB_POOL_MAX: 'z' }, cwd }));
    expect(err.message).toContain('3 problems');
  });

  it('never shows a secret even when the secret itself is malformed', () => {
    writeJson('config/default.json', { db: { password: 123456789 } });
    const err = configError(() => loadConfig({ env: { DB_USER: 'a' }, cwd }));
    expect(err.message).toContain('db.password (env DB_PASSWORD)');
    expect(err.message).not.toContain('123456789');
  });

  it('binds a provider for every DB_TYPE without connecting', async () => {
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
      loadConfig({ env: { DB_TYPE: 'ssh', DB_AUTH: 'iam', AWS_REGION: 'eu-west-1', DB_USER: 'a', SSH_HOST: 'b', SSH_USER: 'u', SSH_AUTH_SOCK: '/a' }, cwd }),
    );
    expect(err.message).toContain('db.tls (env DB_TLS): must be verify-full with DB_AUTH=iam');
  });
});
