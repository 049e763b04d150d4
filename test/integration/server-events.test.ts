import type { RowDataPacket } from 'mysql2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/create-db.js';
import type { Db } from '../../src/db/db.js';
import { startMariaDb, type MariaDbSandbox } from '../../sandbox/mariadb-sandbox.js';
import { emptyDir } from '../support/test-db.js';

// These tests restart the server and change its globals, so they get a server of their own.
let server: MariaDbSandbox;
const dbs: Db[] = [];

beforeAll(async () => {
  server = await startMariaDb();
  await server.createUser('app', 'app-password', 'app');
});

afterAll(async () => {
  await Promise.all(dbs.map((db) => db.close()));
  await server.destroy();
});

async function open(overrides: Record<string, string> = {}): Promise<Db> {
  const db = await createDb({
    env: { DB_PORT: String(server.port), DB_USER: 'app', DB_PASSWORD: 'app-password', DB_NAME: 'app', DB_LOG_LEVEL: 'silent', ...overrides },
    cwd: emptyDir,
  });
  dbs.push(db);
  return db;
}

async function connectionId(db: Db): Promise<number> {
  const [[row]] = await db.withSession((s) => s.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id'));
  return Number(row?.['id']);
}

describe('server-side events', () => {
  it('survives a server restart: the next session gets a working connection', async () => {
    const db = await open({ DB_POOL_MAX: '3' });
    await Promise.all([1, 2, 3].map(() => db.withSession((s) => s.query('SELECT SLEEP(0.02)'))));
    expect(db.stats.idle).toBe(3);
    await server.restart();
    const [[row]] = await db.withSession((s) => s.query<RowDataPacket[]>('SELECT 1 AS ok'));
    expect(row?.['ok']).toBe(1);
  });

  it('never hands out a connection the server dropped for wait_timeout', async () => {
    await server.sql('SET GLOBAL wait_timeout = 1');
    try {
      // Pre-ping set far away: the lifetime kept below wait_timeout must do the work alone.
      const db = await open({ DB_POOL_PING_AFTER_IDLE_MS: '600000' });
      const first = await connectionId(db);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const second = await connectionId(db);
      expect(second).not.toBe(first);
    } finally {
      await server.sql('SET GLOBAL wait_timeout = 28800');
    }
  });
});
