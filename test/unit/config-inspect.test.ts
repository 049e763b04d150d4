import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { registerConfigCommand } from '../../src/cli/commands/config-command.js';
import { inspectConfig, MASK } from '../../src/config/inspect-config.js';
import { explainConfig } from '../../src/config/load-config.js';
import { settings } from '../../src/config/schema.js';

const SECRET = 'S3cr3t-PW-zz';

describe('inspectConfig', () => {
  it('shows every setting and every value it could resolve, with the problems beside them', () => {
    const cwd = dir();
    writeFile(cwd, 'config/dbswitch.json', JSON.stringify({ db: { host: 'from-file', port: 3310 } }));
    const inspection = inspectConfig({ env: { DB_USER: 'app', DB_PASSWORD: SECRET, DB_PORT: 'abc', DB_NAME: 'shop', DB_POOL_MAX: '0' }, cwd });
    expect(inspection.rows.map((row) => row.key)).toEqual(settings.map((setting) => setting.key));
    const row = (key: string) => inspection.rows.find((candidate) => candidate.key === key);
    expect(row('db.host')).toEqual({ key: 'db.host', env: 'DB_HOST', value: 'from-file', source: { kind: 'file', path: join(cwd, 'config/dbswitch.json') } });
    expect(row('db.database')).toEqual({ key: 'db.database', env: 'DB_NAME', value: 'shop', source: { kind: 'env', name: 'DB_NAME' } });
    // the refused DB_PORT leaves the file's value in effect
    expect(row('db.port')).toEqual({
      key: 'db.port',
      env: 'DB_PORT',
      value: 3310,
      source: { kind: 'file', path: join(cwd, 'config/dbswitch.json') },
      problem: 'must be a whole number from 1 to 65535; got "abc" from env DB_PORT',
    });
    expect(row('pool.max')).toMatchObject({ value: 10, source: { kind: 'default' }, problem: expect.stringContaining('from 1 to 10000') as unknown });
    expect(row('db.password')).toEqual({ key: 'db.password', env: 'DB_PASSWORD', value: MASK, source: { kind: 'env', name: 'DB_PASSWORD' } });
    expect(row('db.socketPath')).toEqual({ key: 'db.socketPath', env: 'DB_SOCKET', value: undefined, source: { kind: 'default' } });
    expect(inspection.problems).toEqual([
      'db.port (DB_PORT): must be a whole number from 1 to 65535; got "abc" from env DB_PORT',
      'pool.max (DB_POOL_MAX): must be a whole number from 1 to 10000; got "0" from env DB_POOL_MAX',
    ]);
    expectNoSecret(JSON.stringify(inspection), SECRET);
  });

  it('still shows the values when a file or .env cannot be read, listing those problems too', () => {
    const cwd = dir();
    writeFile(cwd, 'config/dbswitch.json', `{"db": {"password": ${SECRET}}}`);
    writeFile(cwd, '.env', `DB_HOST=from-dotenv\nDB_PORT 3306\n`);
    const inspection = inspectConfig({ env: { DB_USER: 'app' }, cwd });
    expect(inspection.rows.find((row) => row.key === 'db.host')).toMatchObject({ value: 'from-dotenv', source: { kind: 'dotenv', name: 'DB_HOST' } });
    expect(inspection.problems).toHaveLength(2);
    expect(inspection.problems[0]).toContain(`${join(cwd, '.env')} line 2`);
    expect(inspection.problems[1]).toContain('is not valid JSON: syntax error at line 1, column 21');
    expectNoSecret(JSON.stringify(inspection), SECRET);
  });

  it('leaves out a rule about a setting whose own value was refused (it would judge the fallback)', () => {
    const inspection = inspectConfig({ env: { DB_USER: 'app', DB_TLS: 'sometimes', DB_TLS_CA: '/etc/hostname' }, cwd: dir() });
    expect(inspection.problems).toEqual(['db.tls (DB_TLS): must be one of: disabled, required, verify-ca, verify-full; got "sometimes" from env DB_TLS']);
  });

  it('flags unknown DB_* / SSH_* variables like explainConfig does', () => {
    const env = { DB_USER: 'app', DB_PASWORD: SECRET, SSH_TTY: '/dev/pts/1' };
    const cwd = dir();
    expect(inspectConfig({ env, cwd }).unknownVariables).toEqual([{ name: 'DB_PASWORD', suggestion: 'DB_PASSWORD' }]);
    expect(explainConfig({ env, cwd }).unknownVariables).toEqual([{ name: 'DB_PASWORD', suggestion: 'DB_PASSWORD' }]);
  });
});

describe('dbswitch config', () => {
  it('prints the table, the unknown variables and the problems, secrets masked, and exits 1 when invalid', async () => {
    const cwd = dir();
    const { stdout, code } = await runConfig({ DB_USER: 'app', DB_PASSWORD: SECRET, DB_PASWORD: 'x', DB_PORT: 'abc', DB_NAME: 'shop' }, cwd);
    expect(code).toBe(1);
    const lines = stdout.split('\n');
    expect(lines.find((line) => line.startsWith('db.password'))).toMatch(/^db\.password\s+\*{8}\s+env DB_PASSWORD$/);
    expect(lines.find((line) => line.startsWith('db.database'))).toMatch(/^db\.database\s+shop\s+env DB_NAME$/);
    expect(lines.find((line) => line.startsWith('db.socketPath'))).toMatch(/^db\.socketPath\s+\(unset\)\s+default$/);
    expect(lines.find((line) => line.startsWith('db.port '))).toMatch(/^db\.port\s+3306\s+default\s+<- must be a whole number from 1 to 65535; got "abc" from env DB_PORT$/);
    expect(stdout).toContain('DB_PASWORD: not a dbswitch variable; did you mean DB_PASSWORD?');
    expect(stdout).toContain('Invalid configuration (1 problem):\n  - db.port (DB_PORT): must be a whole number');
    for (const setting of settings) expect(stdout).toContain(setting.key);
    expectNoSecret(stdout, SECRET);
  });

  it('exits 0 on a valid configuration, with unknown variables only warned about', async () => {
    const { stdout, code } = await runConfig({ DB_USER: 'app', DB_PASWORD: 'x' }, dir());
    expect(code).toBe(0);
    expect(stdout).toContain('DB_PASWORD: not a dbswitch variable; did you mean DB_PASSWORD?');
    expect(stdout).toContain('Configuration is valid.');
  });

  it('prints the same data as JSON with --json', async () => {
    const cwd = dir();
    const env = { DB_USER: 'app', DB_PASSWORD: SECRET, DB_PASWORD: 'x', DB_PORT: 'abc' };
    const { stdout, code } = await runConfig(env, cwd, ['--json']);
    expect(code).toBe(1);
    const printed = JSON.parse(stdout) as { valid: boolean; rows: { key: string; value: unknown; problem: string | null }[]; problems: string[]; unknownVariables: unknown[] };
    const inspection = inspectConfig({ env, cwd });
    expect(printed.valid).toBe(false);
    expect(printed.problems).toEqual(inspection.problems);
    expect(printed.unknownVariables).toEqual(inspection.unknownVariables);
    expect(printed.rows).toHaveLength(settings.length);
    expect(printed.rows.find((row) => row.key === 'db.password')).toMatchObject({ value: MASK, problem: null });
    expect(printed.rows.find((row) => row.key === 'db.socketPath')).toMatchObject({ value: null });
    expect(printed.rows.find((row) => row.key === 'db.port')).toMatchObject({ value: 3306, problem: expect.stringContaining('"abc"') as unknown });
    expectNoSecret(stdout, SECRET);
  });

  it('can still be registered without a status argument, reporting through io.status', async () => {
    const program = new Command('dbswitch').exitOverride();
    const out = new PassThrough();
    let stdout = '';
    out.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const io = { stdout: out, stderr: new PassThrough(), env: { DB_PORT: 'abc' }, cwd: dir(), configure: undefined, status: { code: 0 } };
    registerConfigCommand(program, io);
    await program.parseAsync(['config'], { from: 'user' });
    expect(stdout).toContain('db.user');
    expect(io.status.code).toBe(1);
  });
});

async function runConfig(env: Record<string, string>, cwd: string, args: string[] = []): Promise<{ stdout: string; code: number }> {
  const program = new Command('dbswitch').exitOverride();
  const out = new PassThrough();
  let stdout = '';
  out.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const status = { code: 0 };
  const io = { stdout: out, stderr: new PassThrough(), env, cwd, configure: undefined, status: { code: 0 } };
  registerConfigCommand(program, io, status);
  await program.parseAsync(['config', ...args], { from: 'user' });
  expect(io.status.code).toBe(0); // the given status is the one set
  return { stdout, code: status.code };
}

// Helpers (each config-*.test.ts file carries its own few: test files do not import each other).
const dirs: string[] = [];
afterEach(() => {
  for (const path of dirs.splice(0)) rmSync(path, { recursive: true, force: true });
});

function dir(): string {
  const path = mkdtempSync(join(tmpdir(), 'dbswitch-config-inspect-'));
  dirs.push(path);
  return path;
}

function writeFile(cwd: string, relative: string, text: string): void {
  mkdirSync(join(cwd, 'config'), { recursive: true });
  writeFileSync(join(cwd, relative), text);
}

/** Not even 4 characters in a row of the secret may appear. */
function expectNoSecret(text: string, secret: string): void {
  for (let i = 0; i + 4 <= secret.length; i++) expect(text).not.toContain(secret.slice(i, i + 4));
}
