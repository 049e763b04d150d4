// dbswitch/knex in-process (src/integrations/knex) against the shared sandbox: what knexConfig
// accepts, pool.afterCreate failures, destroy() and initialize(), and query cancellation.
import knex from 'knex';
import { describe, expect, it } from 'vitest';
import { knexConfig, type KnexAfterCreate } from '../../src/integrations/knex/index.js';
import { admin, eventually, openDb, settlesWithin, useDatabase } from '../support/test-db.js';

const database = useDatabase('kdk_knex_config');

describe('knexConfig(db, extra)', () => {
  it('refuses a connection, a connectionPool or a client of its own in extra (dbswitch provides the connections)', async () => {
    const db = await openDb(database);
    for (const extra of [{ connection: 'mysql://x@y/z' }, { connectionPool: {} }, { client: 'mysql2' }]) {
      expect(() => knexConfig(db, extra as never)).toThrow(expect.objectContaining({ code: 'EUSAGE' }));
    }
  });

  it("uses dbswitch's pool, not a tarn pool, and knows DB_NAME (client.database(), columnInfo)", async () => {
    const db = await openDb(database);
    const k = knex(knexConfig(db));
    await k.schema.dropTableIfExists('info');
    await k.schema.createTable('info', (table) => {
      table.increments('id');
      table.string('label', 20);
    });
    expect(Object.keys(await k('info').columnInfo())).toEqual(['id', 'label']);
    expect((k.client as { pool?: unknown }).pool).toBeUndefined();
    expect(db.stats.open).toBeGreaterThan(0);
    await k.destroy();
  });

  it('destroys a connection whose afterCreate failed and fails that acquire with the error; the next acquire runs afterCreate again', async () => {
    const db = await openDb(database);
    let calls = 0;
    const afterCreate: KnexAfterCreate = (connection, done) => {
      calls++;
      if (calls === 1) done(new Error('setup refused'));
      else connection.query("SET SESSION sql_mode = 'ANSI_QUOTES'", (err) => {
        done(err);
      });
    };
    const k = knex(knexConfig(db, { pool: { afterCreate } }));
    await expect(k.raw('SELECT 1')).rejects.toThrow('setup refused');
    expect(await eventually(() => Promise.resolve(db.stats.open === 0), 2000)).toBe(true);
    const [rows] = (await k.raw('SELECT @@SESSION.sql_mode AS mode')) as [{ mode: string }[]];
    expect(rows[0]?.mode).toBe('ANSI_QUOTES');
    expect(calls).toBe(2);
    await k.destroy();
  });

  it('runs afterCreate once per connection, as knex does, when the hook leaves the session as it was', async () => {
    const db = await openDb(database, { DB_POOL_MAX: '1' });
    const seen: number[] = [];
    const afterCreate: KnexAfterCreate = (connection, done) => {
      seen.push(connection.threadId);
      connection.query('SELECT 1', (err) => {
        done(err);
      });
    };
    const k = knex(knexConfig(db, { pool: { afterCreate } }));
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(((await k.raw('SELECT CONNECTION_ID() AS id')) as [{ id: number }[]])[0][0]?.id);
    // One physical connection throughout, set up once.
    expect(new Set(ids).size).toBe(1);
    expect(seen).toEqual([ids[0]]);
    await k.destroy();
  });

  it('destroy() waits for the connections knex has out, then stops lending; the Db stays open, and initialize() lends again', async () => {
    const db = await openDb(database);
    const k = knex(knexConfig(db));
    const trx = await k.transaction();
    await trx.raw('SELECT 1');
    let destroyed = false;
    const destroying = k.destroy().then(() => (destroyed = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(destroyed).toBe(false);
    await trx.commit();
    await destroying;
    await expect(k.raw('SELECT 1')).rejects.toMatchObject({ code: 'ECLOSED' });
    expect((await db.withSession((s) => s.query('SELECT 1 AS one')))[0]).toEqual([{ one: 1 }]);
    k.initialize();
    expect(((await k.raw('SELECT 2 AS two')) as unknown[])[0]).toEqual([{ two: 2 }]);
    await k.destroy();
  });

  // Regression: the connection came back still marked lent, was counted twice and released once,
  // and destroy() waited forever.
  it('counts once a connection given back past knex (its own release()): destroy() still finishes', async () => {
    const db = await openDb(database, { DB_POOL_MAX: '1' });
    const k = knex(knexConfig(db));
    const client = k.client as { acquireConnection(): Promise<{ release(): void }>; releaseConnection(conn: unknown): Promise<void> };
    (await client.acquireConnection()).release();
    const again = await client.acquireConnection();
    await client.releaseConnection(again);
    expect(await settlesWithin(k.destroy(), 2000)).toBe(true);
    expect(db.stats).toMatchObject({ leased: 0 });
  });

  it('lets destroy() be called twice while a connection is out: both calls finish once it is back', async () => {
    const db = await openDb(database);
    const k = knex(knexConfig(db));
    const trx = await k.transaction();
    const first = k.destroy();
    const second = k.destroy();
    await trx.commit();
    expect(await settlesWithin(Promise.all([first, second]), 2000)).toBe(true);
  });

  it('.timeout(ms, { cancel: true }) kills the statement on the server', async () => {
    const db = await openDb(database);
    const k = knex(knexConfig(db));
    await expect(k.raw('SELECT SLEEP(5)').timeout(200, { cancel: true })).rejects.toMatchObject({ name: 'KnexTimeoutError' });
    const running = (): Promise<unknown[]> => admin<unknown[]>("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE 'SELECT SLEEP%'", [database]);
    expect(await eventually(async () => (await running()).length === 0, 1000)).toBe(true);
    await k.destroy();
  });
});
