// Regression tests of db.pool().promise() under Drizzle (bugs the Drizzle scenario of
// drizzle.test.ts found in src/mysql2-compat), in-process against the shared sandbox.
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/mysql2';
import { describe, expect, it } from 'vitest';
import { admin, eventually, openDb, serverConnections, useDatabase } from '../support/test-db.js';

const database = useDatabase('kdk_drizzle_facade');

async function connectionIds(): Promise<number[]> {
  return (await admin<{ ID: number }[]>('SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? ORDER BY ID', [database])).map((row) => row.ID);
}

describe('db.pool().promise() under Drizzle', () => {
  it("gives back the connection of a finished .iterator() (Drizzle calls conn.end(), which closed the physical connection and leaked the lease: db.close() then waited pool.closeTimeoutMs)", async () => {
    const db = await openDb(database);
    const orm = drizzle({ client: db.pool().promise() });
    const seen: number[] = [];
    for await (const row of orm.select({ seq: sql<number | string>`seq` }).from(sql`seq_1_to_5`).iterator()) seen.push(Number(row.seq));
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(await eventually(() => Promise.resolve(db.stats.leased === 0), 2000)).toBe(true);
    // Given back, not closed: the pool keeps it for the next caller.
    expect(db.stats).toMatchObject({ open: 1, idle: 1 });
    const started = Date.now();
    await db.close();
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('gives a pool query its connection back without a KILL (given back inside mysql2\'s "end", the connection looked busy: every pool query cost a KILL QUERY on the control connection)', async () => {
    const db = await openDb(database, { DB_POOL_MAX: '2' });
    const orm = drizzle({ client: db.pool().promise() });
    for (let i = 0; i < 20; i++) await orm.select({ one: sql<number>`1` }).from(sql`DUAL`);
    await Promise.all(Array.from({ length: 10 }, () => orm.select({ one: sql<number>`1` }).from(sql`DUAL`)));
    expect(await eventually(() => Promise.resolve(db.stats.leased === 0), 2000)).toBe(true);
    // The pool's connections only: no control connection was opened to kill anything.
    expect((await serverConnections(database)).length).toBe(db.stats.open);
  });

  it('gives back the lease of a pool query whose connection was killed (mysql2 ends no command a lost connection failed)', async () => {
    const db = await openDb(database);
    const orm = drizzle({ client: db.pool().promise() });
    const sleeping = orm.execute(sql.raw('SELECT SLEEP(5)')).then(
      () => 'not failed',
      (err: unknown) => err,
    );
    let id: number | undefined;
    await eventually(async () => {
      id = (await connectionIds())[0];
      return id !== undefined;
    });
    await admin(`KILL CONNECTION ${id ?? 0}`);
    expect(await sleeping).toMatchObject({ cause: { code: 'PROTOCOL_CONNECTION_LOST' } });
    expect(await eventually(() => Promise.resolve(db.stats.leased === 0), 2000)).toBe(true);
    expect((await orm.execute(sql`SELECT 1 AS one`))[0]).toEqual([{ one: 1 }]);
    const started = Date.now();
    await db.close();
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('frees the connection of an .iterator() left early at once (its paused stream held the connection until the settle timeout closed it: the next query waited ~7 s)', async () => {
    const db = await openDb(database, { DB_POOL_MAX: '1' });
    const orm = drizzle({ client: db.pool().promise() });
    let rows = 0;
    for await (const _row of orm.select({ seq: sql<number>`seq`, pad: sql<string>`REPEAT('x', 1000)` }).from(sql`seq_1_to_1000000`).iterator()) {
      if (++rows === 10) break;
    }
    const started = Date.now();
    expect((await orm.execute(sql`SELECT 1 AS one`))[0]).toEqual([{ one: 1 }]);
    expect(Date.now() - started).toBeLessThan(2000);
    // The big statement was stopped on the server, not left to run.
    expect(await eventually(async () => (await admin<unknown[]>("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE '%seq_1_to_1000000%'", [database])).length === 0, 2000)).toBe(true);
  });
});
