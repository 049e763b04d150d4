import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseDotenv } from '../../src/config/dotenv.js';
import { explainConfig, loadConfig } from '../../src/config/load-config.js';
import { settings } from '../../src/config/schema.js';
import { unknownVariables } from '../../src/config/unknown-variables.js';
import { DbSwitchError } from '../../src/errors.js';

const SECRET = 'S3cr3t-PW-zz';

describe('parseDotenv', () => {
  it('reads the usual dotenv forms', () => {
    const text = [
      '# a comment',
      '',
      '   ',
      'PLAIN=value',
      'export EXPORTED=yes',
      'SPACED = around equals  ',
      'TRAILING=value # a comment',
      'HASH=pass#word',
      "SINGLE='literal \\n $X # not a comment'",
      'DOUBLE="line1\\nline2\\t\\"q\\" \\\\ \\z" # comment',
      'EMPTY=',
      'EMPTY_QUOTED=""',
      'KEY="-----BEGIN KEY-----',
      'abc=',
      '-----END KEY-----"',
      'LATER=first',
      'LATER=second',
    ].join('\r\n');
    const { values, errors } = parseDotenv(text);
    expect(errors).toEqual([]);
    expect(Object.fromEntries(values)).toEqual({
      PLAIN: 'value',
      EXPORTED: 'yes',
      SPACED: 'around equals',
      TRAILING: 'value',
      HASH: 'pass#word',
      SINGLE: 'literal \\n $X # not a comment',
      DOUBLE: 'line1\nline2\t"q" \\ \\z',
      EMPTY: '',
      EMPTY_QUOTED: '',
      KEY: '-----BEGIN KEY-----\nabc=\n-----END KEY-----',
      LATER: 'second',
    });
  });

  it('reports each malformed line by number, without its text', () => {
    const text = [
      'DB_HOST=ok', // 1
      `DB_PORT ${SECRET}`, // 2: no "="
      SECRET, // 3: not an assignment
      `DB-PASSWORD=${SECRET}`, // 4: not a variable name
      `DB_USER="${SECRET}" trailing`, // 5: text after the closing quote
      `9LIVES=${SECRET}`, // 6: a name may not start with a digit
      `DB_PASSWORD='${SECRET}`, // 7: never closed
      'DB_NAME=still-read',
    ].join('\n');
    const { values, errors } = parseDotenv(text);
    expect(errors.map((error) => error.line)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(errors[3]?.message).toContain('more text after its closing " quote');
    expect(errors[5]?.message).toContain("DB_PASSWORD opens a ' quote that is never closed");
    for (const error of errors) expectNoSecret(error.message, SECRET);
    expect(values.get('DB_HOST')).toBe('ok');
    expect(values.has('DB_PORT')).toBe(false);
  });
});

describe('.env.example', () => {
  it('parses strictly, names every setting, and names nothing dbswitch does not read', () => {
    const { values, errors } = parseDotenv(readFileSync(new URL('../../.env.example', import.meta.url), 'utf8'));
    expect(errors).toEqual([]);
    expect(settings.filter((setting) => !values.has(setting.env)).map((setting) => setting.env)).toEqual([]);
    expect(unknownVariables(Object.fromEntries(values))).toEqual([]);
  });
});

describe('.env', () => {
  it('fills in what the environment lacks; the environment wins, and an empty variable counts as unset', () => {
    const cwd = dir();
    writeFile(cwd, '.env', 'DB_HOST=from-dotenv\nDB_NAME=from-dotenv\nDB_USER=from-dotenv\nDB_CHARSET=\n');
    const { config, sources } = explainConfig({ env: { DB_HOST: 'from-env', DB_USER: '' }, cwd });
    expect(config.db).toMatchObject({ host: 'from-env', database: 'from-dotenv', user: 'from-dotenv', charset: 'utf8mb4' });
    expect(sources.get('db.host')).toEqual({ kind: 'env', name: 'DB_HOST' });
    expect(sources.get('db.user')).toEqual({ kind: 'dotenv', name: 'DB_USER', path: join(cwd, '.env') });
  });

  it('fails on "DB_PORT 3306" instead of silently connecting to the default port', () => {
    const cwd = dir();
    writeFile(cwd, '.env', 'DB_USER=app\nDB_PORT 3307\n');
    const err = configError(() => loadConfig({ env: {}, cwd }));
    expect(err.message).toContain(`${join(cwd, '.env')} line 2: not a NAME=value line`);
    expect(err.message).not.toContain('3307');
  });

  it('fails on an unterminated quote, naming the line and the variable, never the value', () => {
    const cwd = dir();
    writeFile(cwd, '.env', `DB_USER=app\n\nDB_PASSWORD="${SECRET}\nDB_NAME=app\n`);
    const err = configError(() => loadConfig({ env: {}, cwd }));
    expect(err.message).toContain(`${join(cwd, '.env')} line 3: the value of DB_PASSWORD opens a " quote that is never closed`);
    expectNoSecret(err.message, SECRET);
    expectNoSecret(String(err.stack), SECRET);
  });

  it('names .env as the origin of a bad value', () => {
    const cwd = dir();
    writeFile(cwd, '.env', `DB_USER=app\nDB_PORT=33o7\nDB_PASSWORD=${SECRET}\n`);
    const err = configError(() => loadConfig({ env: {}, cwd }));
    expect(err.message).toContain(`db.port (DB_PORT): must be a whole number from 1 to 65535; got "33o7" from DB_PORT in ${join(cwd, '.env')}`);
    expectNoSecret(err.message, SECRET);
  });

  it('reports a .env it cannot read', () => {
    const cwd = dir();
    mkdirSync(join(cwd, '.env'));
    const err = configError(() => loadConfig({ env: { DB_USER: 'app' }, cwd }));
    expect(err.message).toContain(`cannot read ${join(cwd, '.env')} (EISDIR)`);
  });
});

describe('log level', () => {
  for (const level of ['verbose', 'http', 'INFO']) {
    it(`ignores the application's LOG_LEVEL=${level} (winston's levels used to be an ECONFIG)`, () => {
      const config = loadConfig({ env: { DB_USER: 'app', LOG_LEVEL: level }, cwd: dir() });
      expect(config.log.level).toBe('info');
    });
  }

  it('takes its level from DB_LOG_LEVEL, also when LOG_LEVEL is set', () => {
    expect(loadConfig({ env: { DB_USER: 'app', DB_LOG_LEVEL: 'debug', LOG_LEVEL: 'warn' }, cwd: dir() }).log.level).toBe('debug');
    const err = configError(() => loadConfig({ env: { DB_USER: 'app', DB_LOG_LEVEL: 'verbose' }, cwd: dir() }));
    expect(err.message).toContain('log.level (DB_LOG_LEVEL): must be one of: fatal, error, warn, info, debug, trace, silent; got "verbose"');
  });
});

describe('unknown variables', () => {
  it('lists DB_* and SSH_* names dbswitch does not read, with a "did you mean", without failing', () => {
    const cwd = dir();
    writeFile(cwd, '.env', 'SSH_HOTS=bastion\n');
    const { unknownVariables } = explainConfig({
      env: { DB_USER: 'app', DB_PASWORD: SECRET, DB_DATABASE: 'app', DB_WHATEVER_ELSE: 'x', DB_EMPTY: '', PATH: '/bin', MY_DB_HOST: 'x' },
      cwd,
    });
    expect(unknownVariables).toEqual([
      { name: 'DB_DATABASE', suggestion: 'DB_NAME' },
      { name: 'DB_PASWORD', suggestion: 'DB_PASSWORD' },
      { name: 'DB_WHATEVER_ELSE' },
      { name: 'SSH_HOTS', suggestion: 'SSH_HOST' },
    ]);
  });

  it("does not flag DB_CONFIG_FILE or OpenSSH's own variables", () => {
    const cwd = dir();
    writeFile(cwd, 'c.json', '{}');
    const env = {
      DB_USER: 'app',
      DB_CONFIG_FILE: 'c.json',
      SSH_CLIENT: '10.0.0.1 50000 22',
      SSH_CONNECTION: '10.0.0.1 50000 10.0.0.2 22',
      SSH_TTY: '/dev/pts/0',
      SSH_AGENT_PID: '42',
      SSH_ASKPASS: '/usr/bin/ssh-askpass',
      SSH_ASKPASS_REQUIRE: 'never',
      SSH_ORIGINAL_COMMAND: 'ls',
      SSH_AUTH_SOCK: '/tmp/agent.sock',
    };
    expect(explainConfig({ env, cwd }).unknownVariables).toEqual([]);
  });
});

// Helpers (each config-*.test.ts file carries its own few: test files do not import each other).
const dirs: string[] = [];
afterEach(() => {
  for (const path of dirs.splice(0)) rmSync(path, { recursive: true, force: true });
});

function dir(): string {
  const path = mkdtempSync(join(tmpdir(), 'dbswitch-config-env-'));
  dirs.push(path);
  return path;
}

function writeFile(cwd: string, relative: string, text: string): void {
  writeFileSync(join(cwd, relative), text);
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
