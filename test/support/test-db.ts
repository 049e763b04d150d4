import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mysql from 'mysql2/promise';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, inject } from 'vitest';
import { createDb, type CreateDbOptions } from '../../src/db/create-db.js';
import type { Db } from '../../src/db/db.js';

export const sandbox = (): ReturnType<typeof inject<'mariadb'>> => inject('mariadb');

/** A folder with no config/ and no .env, so only the env a test passes counts. */
export const emptyDir = mkdtempSync(join(tmpdir(), 'dbswitch-test-cwd-'));
afterAll(() => { rmSync(emptyDir, { recursive: true, force: true }); });

/** The env of the shared sandbox's app user over TCP, plus overrides. */
export function basicEnv(database: string, overrides: Record<string, string> = {}): Record<string, string> {
  const info = sandbox();
  return {
    DB_TYPE: 'basic',
    DB_HOST: '127.0.0.1',
    DB_PORT: String(info.port),
    DB_USER: info.user,
    DB_PASSWORD: info.password,
    DB_NAME: database,
    DB_LOG_LEVEL: 'silent',
    ...overrides,
  };
}

const opened = new Set<Db>();
afterEach(async () => {
  await Promise.all([...opened].map((db) => db.close()));
  opened.clear();
});

/** A Db on the shared sandbox, closed after the test. */
export async function openDb(database: string, overrides: Record<string, string> = {}, options: CreateDbOptions = {}): Promise<Db> {
  const db = await createDb({ env: basicEnv(database, overrides), cwd: emptyDir, ...options });
  opened.add(db);
  return db;
}

/** Root on the sandbox's socket, for what a test does behind the library's back (KILL, processlist). */
export async function admin<T = unknown>(sql: string, values?: unknown[]): Promise<T> {
  const connection = await mysql.createConnection({ socketPath: sandbox().socketPath, user: 'root' });
  try {
    return (await connection.query(sql, values))[0] as T;
  } finally {
    await connection.end();
  }
}

/** Creates app_<name> before the file's tests run and drops it when the file is done. */
export function useDatabase(name: string): string {
  const database = `app_${name}`;
  beforeAll(async () => {
    await admin(`CREATE DATABASE IF NOT EXISTS \`${database}\``);
  });
  afterAll(async () => {
    await admin(`DROP DATABASE IF EXISTS \`${database}\``);
  });
  return database;
}

/** Connection ids the server has for a database, from its processlist. */
export async function serverConnections(database: string): Promise<number[]> {
  const rows = await admin<{ ID: number }[]>('SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? ORDER BY ID', [database]);
  return rows.map((row) => row.ID);
}

/** Polls `check` every 25 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return check();
}

/** Whether `promise` settles (either way) within `ms`; the timer is cleared either way. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<false>((resolve) => {
      timer = setTimeout(resolve, ms, false);
    }),
  ]);
  clearTimeout(timer);
  return settled;
}

/** A pino logger at `level` whose lines the test can read. */
export function capturedLogger(level = 'trace'): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}
