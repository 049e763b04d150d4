import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { jsonErrorPosition } from '../../src/config/json-syntax.js';
import { explainConfig, loadConfig } from '../../src/config/load-config.js';
import { DbSwitchError } from '../../src/errors.js';

const SECRET = 'S3cr3t-PW-zz';

describe('config files', () => {
  it("never reads the application's own config/default.json (node-config), which used to kill start-up", () => {
    const cwd = dir();
    writeFile(cwd, 'config/default.json', JSON.stringify({ server: { port: 80 } }));
    writeFile(cwd, 'config/production.json', JSON.stringify({ db: { host: 'app-only', port: 'not a port' } }));
    writeFile(cwd, 'config/local.json', 'not JSON at all');
    const config = loadConfig({ env: { DB_USER: 'app', NODE_ENV: 'production' }, cwd });
    expect(config.db.host).toBe('127.0.0.1');
    expect(config.db.port).toBe(3306);
  });

  it('reads config/dbswitch.json and config/dbswitch.<NODE_ENV>.json, the latter above the former', () => {
    const cwd = dir();
    writeFile(cwd, 'config/dbswitch.json', JSON.stringify({ db: { host: 'base', database: 'base-db' } }));
    writeFile(cwd, 'config/dbswitch.production.json', JSON.stringify({ db: { host: 'prod' } }));
    writeFile(cwd, 'config/dbswitch.staging.json', JSON.stringify({ db: { host: 'staging' } }));
    const { config, sources } = explainConfig({ env: { DB_USER: 'app', NODE_ENV: 'production' }, cwd });
    expect(config.db).toMatchObject({ host: 'prod', database: 'base-db' });
    expect(sources.get('db.host')).toEqual({ kind: 'file', path: join(cwd, 'config/dbswitch.production.json') });
    expect(sources.get('db.database')).toEqual({ kind: 'file', path: join(cwd, 'config/dbswitch.json') });
    expect(loadConfig({ env: { DB_USER: 'app' }, cwd }).db.host).toBe('base');
  });

  it('reads DB_CONFIG_FILE (relative to cwd, also when named in .env) above the config/ files', () => {
    const cwd = dir();
    writeFile(cwd, 'config/dbswitch.json', JSON.stringify({ db: { host: 'base', database: 'base-db' } }));
    writeFile(cwd, 'elsewhere/db.json', JSON.stringify({ db: { host: 'named' } }));
    writeFile(cwd, '.env', 'DB_CONFIG_FILE=elsewhere/db.json\n');
    expect(loadConfig({ env: { DB_USER: 'app' }, cwd }).db).toMatchObject({ host: 'named', database: 'base-db' });
  });

  it('requires the file DB_CONFIG_FILE names to exist', () => {
    const cwd = dir();
    const err = configError(() => loadConfig({ env: { DB_USER: 'app', DB_CONFIG_FILE: 'missing.json' }, cwd }));
    expect(err.message).toContain(`config file ${join(cwd, 'missing.json')} (named by DB_CONFIG_FILE) does not exist`);
  });

  it('reads only the files option when given, each of which must exist', () => {
    const cwd = dir();
    writeFile(cwd, 'config/dbswitch.json', JSON.stringify({ db: { host: 'not-read' } }));
    writeFile(cwd, 'a.json', JSON.stringify({ db: { host: 'a', database: 'a' } }));
    writeFile(cwd, 'b.json', JSON.stringify({ db: { host: 'b' } }));
    expect(loadConfig({ env: { DB_USER: 'app' }, cwd, files: ['a.json', 'b.json'] }).db).toMatchObject({ host: 'b', database: 'a' });
    const err = configError(() => loadConfig({ env: { DB_USER: 'app' }, cwd, files: ['c.json'] }));
    expect(err.message).toContain('c.json (named by the files option) does not exist');
  });

  it('accepts a file that starts with a byte order mark', () => {
    const cwd = dir();
    writeFile(cwd, 'config/dbswitch.json', `\uFEFF${JSON.stringify({ db: { host: 'bom' } })}`);
    expect(loadConfig({ env: { DB_USER: 'app' }, cwd }).db.host).toBe('bom');
  });

  it('still reports unknown keys in dbswitch files, with a "did you mean", never their values', () => {
    const cwd = dir();
    writeFile(cwd, 'config/dbswitch.json', JSON.stringify({ db: { pasword: SECRET, hots: 'x' }, DB_PORT: 3307, pol: { max: 3 } }));
    const err = configError(() => loadConfig({ env: { DB_USER: 'app' }, cwd }));
    const path = join(cwd, 'config/dbswitch.json');
    expect(err.message).toContain(`unknown key "db.pasword" in ${path}; did you mean "db.password" (DB_PASSWORD)?`);
    expect(err.message).toContain(`unknown key "db.hots" in ${path}; did you mean "db.host" (DB_HOST)?`);
    expect(err.message).toContain(`unknown key "DB_PORT" in ${path}; did you mean "db.port" (DB_PORT)?`);
    expect(err.message).toContain(`unknown key "pol.max" in ${path}; did you mean "pool.max"`);
    expect(err.message).toContain('keys of "db": type, host, port');
    expectNoSecret(err.message, SECRET);
  });

  it('rejects a file that is not an object of sections, or a section that is not an object', () => {
    const cwd = dir();
    writeFile(cwd, 'config/dbswitch.json', JSON.stringify([1, 2]));
    expect(configError(() => loadConfig({ env: { DB_USER: 'app' }, cwd })).message).toContain('must hold an object of sections');
    writeFile(cwd, 'config/dbswitch.json', JSON.stringify({ db: 'localhost' }));
    expect(configError(() => loadConfig({ env: { DB_USER: 'app' }, cwd })).message).toContain('"db" in');
  });
});

describe('JSON syntax errors name the file, line and column, never the content', () => {
  const cases: { name: string; text: string; line: number; column: number }[] = [
    { name: 'a file holding only the password', text: SECRET, line: 1, column: 1 },
    { name: 'an unquoted password', text: `{"db": {"password": ${SECRET}}}`, line: 1, column: 21 },
    { name: 'an unquoted password on a later line', text: `{\n  "db": {\n    "user": "app",\n    "password": ${SECRET}\n  }\n}`, line: 4, column: 17 },
    { name: 'an unterminated password string', text: `{"db": {"password": "${SECRET}`, line: 1, column: 21 + SECRET.length + 1 },
    { name: 'a password followed by a trailing comma', text: `{"db": {"password": "${SECRET}",}}`, line: 1, column: 21 + SECRET.length + 3 },
    { name: 'single quotes around the password', text: `{"db": {"password": '${SECRET}'}}`, line: 1, column: 21 },
  ];
  for (const entry of cases) {
    it(`in a DB_CONFIG_FILE with ${entry.name}`, () => {
      const cwd = dir();
      const path = writeFile(cwd, 'secret.json', entry.text);
      expect(() => JSON.parse(entry.text) as unknown).toThrow(SyntaxError);
      const err = configError(() => loadConfig({ env: { DB_USER: 'app', DB_CONFIG_FILE: path }, cwd }));
      expect(err.message).toContain(`config file ${path} is not valid JSON: syntax error at line ${entry.line}, column ${entry.column}`);
      expectNoSecret(err.message, SECRET);
      expectNoSecret(String(err.stack), SECRET);
      expectNoSecret(JSON.stringify(err), SECRET);
      expect(err.cause).toBeUndefined();
    });
  }

  it('finds an error exactly where JSON.parse does, and none in valid JSON', () => {
    const valid = ['{}', '[]', '0', '-0.5e+10', '"a\\u00e9\\n"', ' {"a": [1, true, false, null, {"b": "c"}]} ', '[[[]]]'];
    const invalid = ['', ' ', '{', '{"a"}', '{"a":}', '[1,]', '01', '1.', '-', '"\\x"', '"a', 'tru', 'nul', '{"a":1}x', '"\t"', '[1 2]', '{a:1}', '1e'];
    for (const text of valid) expect({ text, position: jsonErrorPosition(text) }).toEqual({ text, position: undefined });
    for (const text of invalid) {
      expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
      expect({ text, position: jsonErrorPosition(text) }).not.toEqual({ text, position: undefined });
    }
  });
});

// Helpers (each config-*.test.ts file carries its own few: test files do not import each other).
const dirs: string[] = [];
afterEach(() => {
  for (const path of dirs.splice(0)) rmSync(path, { recursive: true, force: true });
});

function dir(): string {
  const path = mkdtempSync(join(tmpdir(), 'dbswitch-config-files-'));
  dirs.push(path);
  return path;
}

function writeFile(cwd: string, relative: string, text: string): string {
  const path = join(cwd, relative);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
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

/** Not even 4 characters in a row of the secret may appear. */
function expectNoSecret(text: string, secret: string): void {
  for (let i = 0; i + 4 <= secret.length; i++) expect(text).not.toContain(secret.slice(i, i + 4));
}
