// db.pool() keeps mysql2's callback contract now that the pool hands connections to it by
// callback, sometimes synchronously (an idle connection, or one given back by another caller's
// release()): getConnection never calls back inside itself or inside someone's release(), and
// the events come as mysql2's pool emits them.
import type { Pool, PoolConnection } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { openDb, settlesWithin, useDatabase } from '../support/test-db.js';

const database = useDatabase('pool_facade');

function borrowFrom(pool: Pool): Promise<PoolConnection> {
  return new Promise((resolve, reject) => {
    pool.getConnection((err, conn) => {
      if (err === null) resolve(conn);
      else reject(err);
    });
  });
}

describe('db.pool() callbacks', () => {
  it('calls back on a later tick, with an idle connection and with one handed over by a release', async () => {
    const db = await openDb(database, { DB_POOL_MAX: '1' });
    const pool = db.pool();
    const events: string[] = [];
    pool.on('connection', () => events.push('connection'));
    pool.on('acquire', () => events.push('acquire'));
    pool.on('release', () => events.push('release'));

    const borrow = (name: string): Promise<PoolConnection> =>
      new Promise((resolve, reject) => {
        pool.getConnection((err, conn) => {
          events.push(`${name} called back`);
          if (err !== null) reject(err);
          else resolve(conn);
        });
        events.push(`${name} returned`);
      });

    const first = await borrow('first');
    first.release();
    // Idle now: lent at once by the pool, still called back after getConnection returned.
    const again = await borrow('again');
    expect(again.threadId).toBe(first.threadId);
    // Nothing idle: the second caller waits, and gets the connection from the first's release().
    const waiting = borrow('waiter');
    events.push('releasing');
    again.release();
    events.push('released');
    const handedOver = await waiting;
    expect(handedOver.threadId).toBe(first.threadId);
    handedOver.release();

    expect(events).toEqual([
      'first returned',
      'connection',
      'acquire',
      'first called back',
      'release',
      'again returned',
      'acquire',
      'again called back',
      'waiter returned',
      'releasing',
      'release',
      'released',
      'acquire',
      'waiter called back',
      'release',
    ]);
    expect(db.stats).toMatchObject({ open: 1, leased: 0, waiting: 0 });
  });

  it('tells a caller waiting for a connection that the wait timed out, and forgets it', async () => {
    const db = await openDb(database, { DB_POOL_MAX: '1', DB_POOL_ACQUIRE_TIMEOUT_MS: '200' });
    const pool = db.pool();
    const held = await new Promise<PoolConnection>((resolve, reject) => {
      pool.getConnection((err, conn) => {
        if (err === null) resolve(conn);
        else reject(err);
      });
    });
    const started = Date.now();
    const failed = await new Promise<unknown>((resolve) => {
      pool.getConnection((err) => {
        resolve(err);
      });
    });
    expect(failed).toMatchObject({ code: 'EACQUIRE_TIMEOUT' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    held.release();
    expect(db.stats).toMatchObject({ leased: 0, waiting: 0 });
  });

  // Regression: the connection went to the waiting caller inside the holder's release(), and the
  // object counted as lent to the new caller at once. The holder's second release() then gave
  // back the new caller's lease: a third caller got the same connection while it was in use.
  it("ignores the previous holder's calls once it released, while the connection goes to a waiting caller", async () => {
    const db = await openDb(database, { DB_POOL_MAX: '1', DB_POOL_ACQUIRE_TIMEOUT_MS: '2000' });
    const pool = db.pool();
    const holder = await borrowFrom(pool);
    const waiter = borrowFrom(pool);
    holder.release();
    let lateCall: unknown;
    try {
      holder.query('SELECT 1');
    } catch (err) {
      lateCall = err;
    }
    expect(lateCall).toMatchObject({ code: 'ESESSION_RELEASED' });
    holder.release();
    holder.destroy();
    const next = await waiter;
    expect(next.threadId).toBe(holder.threadId);
    expect(db.stats).toMatchObject({ open: 1, leased: 1 });
    const third = borrowFrom(pool);
    expect(await settlesWithin(third, 200)).toBe(false);
    const [rows] = await next.promise().query('SELECT 1 AS one');
    expect(rows).toEqual([{ one: 1 }]);
    next.release();
    (await third).release();
    expect(db.stats).toMatchObject({ open: 1, leased: 0, waiting: 0 });
  });

  it("lets a 'connection' listener run a statement on the new connection, as with mysql2's pool", async () => {
    const db = await openDb(database);
    const pool = db.pool();
    const ran: unknown[] = [];
    pool.on('connection', (conn: PoolConnection) => {
      conn.query('SELECT 1 AS one', (err, rows) => ran.push(err ?? rows));
    });
    const conn = await borrowFrom(pool);
    const [rows] = await conn.promise().query('SELECT 2 AS two');
    expect(rows).toEqual([{ two: 2 }]);
    expect(ran).toEqual([[{ one: 1 }]]);
    conn.release();
  });
});
