import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import type { DbSwitchConfig } from '../../src/config/config.js';
import { loadConfig } from '../../src/config/load-config.js';
import { RESET_MODES, type AuthMethod, type DbType, type ResetMode, type TlsMode } from '../../src/config/modes.js';
import { DbSwitchError } from '../../src/errors.js';

describe('db.initSql (DB_INIT_SQL)', () => {
  it('is unset by default and taken as written when set', () => {
    expect(loadConfig({ env: { DB_USER: 'app' }, cwd: dir() }).db.initSql).toBeUndefined();
    const sql = "SET time_zone='+00:00'; SET SESSION sql_mode='STRICT_ALL_TABLES'";
    expect(loadConfig({ env: { DB_USER: 'app', DB_INIT_SQL: sql }, cwd: dir() }).db.initSql).toBe(sql);
  });

  it('must be a non-empty string', () => {
    const cwd = dir();
    writeFile(cwd, 'config/dbswitch.json', JSON.stringify({ db: { initSql: '' } }));
    expect(configError(() => loadConfig({ env: { DB_USER: 'app' }, cwd })).message).toContain('db.initSql (DB_INIT_SQL): must be a non-empty string');
    writeFile(cwd, 'config/dbswitch.json', JSON.stringify({ db: { initSql: ['SET a=1'] } }));
    expect(configError(() => loadConfig({ env: { DB_USER: 'app' }, cwd })).message).toContain('db.initSql (DB_INIT_SQL): must be a non-empty string');
  });
});

describe('db.statementTimeoutMs (DB_STATEMENT_TIMEOUT_MS)', () => {
  it('defaults to 0 (none) and takes whole milliseconds', () => {
    expect(loadConfig({ env: { DB_USER: 'app' }, cwd: dir() }).db.statementTimeoutMs).toBe(0);
    expect(loadConfig({ env: { DB_USER: 'app', DB_STATEMENT_TIMEOUT_MS: '1500' }, cwd: dir() }).db.statementTimeoutMs).toBe(1500);
  });

  for (const value of ['-1', '1.5', '2s', '86400001']) {
    it(`rejects ${value}`, () => {
      const err = configError(() => loadConfig({ env: { DB_USER: 'app', DB_STATEMENT_TIMEOUT_MS: value }, cwd: dir() }));
      expect(err.message).toContain('db.statementTimeoutMs (DB_STATEMENT_TIMEOUT_MS): must be a whole number from 0 ms to');
    });
  }
});

describe('pool.resetOnRelease (DB_POOL_RESET_ON_RELEASE)', () => {
  it('defaults to auto', () => {
    expect(loadConfig({ env: { DB_USER: 'app' }, cwd: dir() }).pool.resetOnRelease).toBe('auto');
  });

  for (const mode of RESET_MODES) {
    it(`accepts ${mode} from the environment and from a file`, () => {
      expect(loadConfig({ env: { DB_USER: 'app', DB_POOL_RESET_ON_RELEASE: mode }, cwd: dir() }).pool.resetOnRelease).toBe(mode);
      const cwd = dir();
      writeFile(cwd, 'config/dbswitch.json', JSON.stringify({ pool: { resetOnRelease: mode } }));
      expect(loadConfig({ env: { DB_USER: 'app' }, cwd }).pool.resetOnRelease).toBe(mode);
    });
  }

  const retired: { value: string | boolean | number; use: string }[] = [
    { value: 'true', use: 'use always (or auto, the default)' },
    { value: 'false', use: 'use never' },
    { value: '1', use: 'use always' },
    { value: '0', use: 'use never' },
    { value: true, use: 'use always (or auto, the default)' },
    { value: false, use: 'use never' },
  ];
  for (const { value, use } of retired) {
    it(`rejects the former ${JSON.stringify(value)}, saying what to use instead`, () => {
      const cwd = dir();
      const env: Record<string, string> = { DB_USER: 'app' };
      if (typeof value === 'string') env['DB_POOL_RESET_ON_RELEASE'] = value;
      else writeFile(cwd, 'config/dbswitch.json', JSON.stringify({ pool: { resetOnRelease: value } }));
      const err = configError(() => loadConfig({ env, cwd }));
      expect(err.message).toContain('pool.resetOnRelease (DB_POOL_RESET_ON_RELEASE): must be one of: auto, always, never;');
      expect(err.message).toContain(`${String(value)} is no longer accepted; ${use}`);
    });
  }

  it('rejects any other value, listing the modes', () => {
    const err = configError(() => loadConfig({ env: { DB_USER: 'app', DB_POOL_RESET_ON_RELEASE: 'sometimes' }, cwd: dir() }));
    expect(err.message).toContain('pool.resetOnRelease (DB_POOL_RESET_ON_RELEASE): must be one of: auto, always, never; got "sometimes"');
  });
});

describe('DbSwitchConfig', () => {
  // Checked by `tsc` (npm run typecheck): the type comes from the schema.
  it('derives its types from the schema', () => {
    expectTypeOf<DbSwitchConfig['db']['type']>().toEqualTypeOf<DbType>();
    expectTypeOf<DbSwitchConfig['db']['tls']>().toEqualTypeOf<TlsMode>();
    expectTypeOf<DbSwitchConfig['db']['auth']>().toEqualTypeOf<AuthMethod>();
    expectTypeOf<DbSwitchConfig['db']['port']>().toEqualTypeOf<number>();
    expectTypeOf<DbSwitchConfig['db']['password']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<DbSwitchConfig['db']['initSql']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<DbSwitchConfig['db']['statementTimeoutMs']>().toEqualTypeOf<number>();
    expectTypeOf<DbSwitchConfig['pool']['resetOnRelease']>().toEqualTypeOf<ResetMode>();
    expectTypeOf<DbSwitchConfig['ssh']['knownHostsPath']>().toEqualTypeOf<string>();
    expectTypeOf<DbSwitchConfig['log']['queries']>().toEqualTypeOf<boolean>();
    expectTypeOf<keyof DbSwitchConfig>().toEqualTypeOf<'db' | 'aws' | 'pool' | 'ssh' | 'log'>();
    const config = loadConfig({ env: { DB_USER: 'app' }, cwd: dir() });
    expect(Object.keys(config)).toEqual(['db', 'aws', 'pool', 'ssh', 'log']);
  });
});

// Helpers (each config-*.test.ts file carries its own few: test files do not import each other).
const dirs: string[] = [];
afterEach(() => {
  for (const path of dirs.splice(0)) rmSync(path, { recursive: true, force: true });
});

function dir(): string {
  const path = mkdtempSync(join(tmpdir(), 'dbswitch-config-settings-'));
  dirs.push(path);
  return path;
}

function writeFile(cwd: string, relative: string, text: string): void {
  mkdirSync(join(cwd, 'config'), { recursive: true });
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
