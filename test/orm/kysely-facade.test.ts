// Regression tests of db.pool() under Kysely (bugs the Kysely scenario of kysely.test.ts found in
// src/mysql2-compat), in-process against the shared sandbox.
import { Kysely, MysqlDialect, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { admin, eventually, openDb, sandbox, useDatabase } from '../support/test-db.js';

const database = useDatabase('kdk_kysely_facade');

/** KILL CONNECTION of the connection running a statement that contains `marker`; waits until the server let go. */
async function killRunning(marker: string): Promise<void> {
  let id: number | undefined;
  await eventually(async () => {
    const rows = await admin<{ ID: number; INFO: string | null }[]>('SELECT ID, INFO FROM information_schema.PROCESSLIST WHERE DB = ?', [database]);
    id = rows.find((row) => row.INFO?.includes(marker) === true)?.ID;
    return id !== undefined;
  });
  expect(id).toBeDefined();
  await admin(`KILL CONNECTION ${id ?? 0}`);
  await eventually(async () => (await admin<unknown[]>('SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ?', [id])).length === 0);
}

describe('db.pool() under Kysely', () => {
  it('a .stream() whose connection is killed fails with the loss (it waited forever: mysql2 tells a command without a callback nothing)', async () => {
    const db = await openDb(database);
    const kysely = new Kysely<Record<string, never>>({ dialect: new MysqlDialect({ pool: db.pool() }) });
    const streamed = (async () => {
      const query = kysely.selectFrom(sql<{ seq: number }>`seq_1_to_5`.as('t')).select(['t.seq', sql<number>`SLEEP(IF(seq = 3, 5, 0))`.as('slept')]);
      for await (const row of query.stream()) expect(row.seq).toBeLessThan(3);
    })().then(
      () => 'not failed',
      (err: unknown) => err,
    );
    await killRunning('SLEEP(IF(seq = 3');
    const started = Date.now();
    const hung = new Promise((resolve) => setTimeout(resolve, 3000, 'still waiting after 3 s'));
    expect(await Promise.race([streamed, hung])).toMatchObject({ code: 'PROTOCOL_CONNECTION_LOST' });
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(sql`SELECT 1 AS one`.execute(kysely)).resolves.toMatchObject({ rows: [{ one: 1 }] });
    await kysely.destroy();
    expect(await eventually(() => Promise.resolve(db.stats.leased === 0), 2000)).toBe(true);
  });

  it('a connection killed under a query over TLS is not lent again (mysql2 told only the query callback; the next query got "closed state")', async () => {
    const db = await openDb(database, { DB_TLS: 'verify-ca', DB_TLS_CA: sandbox().caPath });
    const kysely = new Kysely<Record<string, never>>({ dialect: new MysqlDialect({ pool: db.pool() }) });
    const sleeping = sql`SELECT SLEEP(5)`.execute(kysely).then(
      () => 'not failed',
      (err: unknown) => err,
    );
    await killRunning('SLEEP(5)');
    expect(await sleeping).toMatchObject({ code: 'PROTOCOL_CONNECTION_LOST' });
    await expect(sql`SELECT 1 AS one`.execute(kysely)).resolves.toMatchObject({ rows: [{ one: 1 }] });
    await kysely.destroy();
  });
});
