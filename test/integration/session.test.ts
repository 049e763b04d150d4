import type { RowDataPacket } from 'mysql2';
import { beforeAll, describe, expect, it } from 'vitest';
import { DbSwitchError } from '../../src/errors.js';
import { admin, openDb, useDatabase } from '../support/test-db.js';

const database = useDatabase('session');

interface IdRow extends RowDataPacket {
  id: number;
}

beforeAll(async () => {
  await admin(`CREATE TABLE IF NOT EXISTS \`${database}\`.item (id INT PRIMARY KEY, label VARCHAR(50))`);
});

async function labels(db: Awaited<ReturnType<typeof openDb>>): Promise<string[]> {
  const [rows] = await db.withSession((s) => s.query<RowDataPacket[]>('SELECT label FROM item ORDER BY id'));
  return rows.map((row) => String(row['label']));
}

async function clear(): Promise<void> {
  await admin(`DELETE FROM \`${database}\`.item`);
}

describe('sessions on a real MariaDB', () => {
  it('runs queries and prepared statements with parameters', async () => {
    const db = await openDb(database);
    await db.withSession(async (s) => {
      const [rows] = await s.query<RowDataPacket[]>('SELECT ? AS n, ? AS word, ? IS NULL AS isNull', [41 + 1, "it's", null]);
      expect(rows).toEqual([{ n: 42, word: "it's", isNull: 1 }]);
      const [prepared] = await s.execute<RowDataPacket[]>('SELECT ? + 1 AS n', [1]);
      expect(prepared[0]?.['n']).toBe(2);
    });
  });

  it('offers the generator, AsyncDisposable and loan forms, each releasing its connection', async () => {
    const db = await openDb(database);
    for await (const s of db.getDb()) {
      await s.query('SELECT 1');
      expect(db.stats.leased).toBe(1);
    }
    expect(db.stats.leased).toBe(0);
    {
      await using s = await db.session();
      await s.query('SELECT 1');
      expect(db.stats.leased).toBe(1);
    }
    expect(db.stats.leased).toBe(0);
    await expect(db.withSession(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(db.stats).toMatchObject({ leased: 0, idle: 1, open: 1 });
  });

  it('borrows lazily: a session without statements takes no connection', async () => {
    const db = await openDb(database);
    await db.withSession(() => {
      expect(db.stats).toMatchObject({ open: 0, leased: 0 });
      return Promise.resolve();
    });
    expect(db.stats.open).toBe(0);
  });

  it('commits a transaction that resolves and rolls back one that throws', async () => {
    await clear();
    const db = await openDb(database);
    await db.withSession((s) => s.transaction((tx) => tx.query("INSERT INTO item VALUES (1, 'kept')")));
    await expect(
      db.withSession((s) =>
        s.transaction(async (tx) => {
          await tx.query("INSERT INTO item VALUES (2, 'dropped')");
          throw new Error('validation failed');
        }),
      ),
    ).rejects.toThrow('validation failed');
    expect(await labels(db)).toEqual(['kept']);
  });

  it('nests transactions with savepoints', async () => {
    await clear();
    const db = await openDb(database);
    await db.withSession((s) =>
      s.transaction(async (tx) => {
        await tx.query("INSERT INTO item VALUES (1, 'outer')");
        await tx.transaction((inner) => inner.query("INSERT INTO item VALUES (2, 'inner')"));
        await tx.transaction(async (inner) => {
          await inner.query("INSERT INTO item VALUES (3, 'inner rolled back')");
          throw new Error('inner failed');
        }).catch(() => undefined);
      }),
    );
    expect(await labels(db)).toEqual(['outer', 'inner']);
  });

  it('rolls back a transaction left open at release, as a second connection sees', async () => {
    await clear();
    const db = await openDb(database);
    for await (const s of db.getDb()) {
      await s.query('START TRANSACTION');
      await s.query("INSERT INTO item VALUES (1, 'uncommitted')");
    }
    const seen = await admin<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${database}\`.item`);
    expect(seen[0]?.['n']).toBe(0);
    expect(await labels(db)).toEqual([]);
  });

  it('rolls back a raw BEGIN left open, and the connection is reused', async () => {
    await clear();
    const db = await openDb(database, { DB_POOL_MAX: '1' });
    let firstId = 0;
    await db.withSession(async (s) => {
      await s.query('BEGIN');
      await s.query("INSERT INTO item VALUES (1, 'uncommitted')");
      firstId = (await s.query<IdRow[]>('SELECT CONNECTION_ID() AS id'))[0][0]?.id ?? -1;
    });
    await db.withSession(async (s) => {
      const [[row]] = await s.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id, @@in_transaction AS inTx, (SELECT COUNT(*) FROM item) AS n');
      expect(row).toEqual({ id: firstId, inTx: 0, n: 0 });
    });
  });

  it('restores autocommit when a session turned it off', async () => {
    await clear();
    const db = await openDb(database, { DB_POOL_MAX: '1' });
    await db.withSession(async (s) => {
      await s.query('SET autocommit = 0');
      await s.query("INSERT INTO item VALUES (1, 'never committed')");
    });
    await db.withSession(async (s) => {
      const [[row]] = await s.query<RowDataPacket[]>('SELECT @@autocommit AS autocommit, (SELECT COUNT(*) FROM item) AS n');
      expect(row).toEqual({ autocommit: 1, n: 0 });
    });
  });

  it('resets the session state after raw use of s.connect()', async () => {
    const db = await openDb(database, { DB_POOL_MAX: '1' });
    await db.withSession(async (s) => {
      const raw = await s.connect();
      await raw.query('SET @leftover = 42');
      const [[row]] = await raw.query<RowDataPacket[]>('SELECT @leftover AS v');
      expect(row?.['v']).toBe(42);
    });
    await db.withSession(async (s) => {
      const [[row]] = await s.query<RowDataPacket[]>('SELECT @leftover AS v');
      expect(row?.['v']).toBeNull();
    });
  });

  it('resets user variables on release with pool.resetOnRelease', async () => {
    const db = await openDb(database, { DB_POOL_MAX: '1', DB_POOL_RESET_ON_RELEASE: 'always' });
    await db.withSession((s) => s.query('SET @leftover = 1'));
    const [[row]] = await db.withSession((s) => s.query<RowDataPacket[]>('SELECT @leftover AS v'));
    expect(row?.['v']).toBeNull();
  });

  it('passes SQL errors through unchanged and keeps the healthy connection', async () => {
    const db = await openDb(database, { DB_POOL_MAX: '1' });
    const first = await db.withSession(async (s) => (await s.query<IdRow[]>('SELECT CONNECTION_ID() AS id'))[0][0]?.id);
    const err = await db.withSession((s) => s.query('SELECT * FROM no_such_table')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ER_NO_SUCH_TABLE' });
    expect(err).not.toBeInstanceOf(DbSwitchError);
    const second = await db.withSession(async (s) => (await s.query<IdRow[]>('SELECT CONNECTION_ID() AS id'))[0][0]?.id);
    expect(second).toBe(first);
  });

  it('releases exactly once and refuses use after release', async () => {
    const db = await openDb(database);
    const s = await db.session();
    await s.query('SELECT 1');
    const [a, b] = [s.release(), s.release()];
    expect(a).toBe(b);
    await a;
    expect(db.stats).toMatchObject({ leased: 0, idle: 1 });
    await expect(s.query('SELECT 1')).rejects.toMatchObject({ code: 'ESESSION_RELEASED' });
    await s.release();
    expect(db.stats).toMatchObject({ leased: 0, idle: 1 });
  });

  it('destroys a connection that breaks mid-statement and reports ECONNECTION_LOST', async () => {
    const db = await openDb(database);
    const err = await db.withSession(async (s) => {
      const [[row]] = await s.query<IdRow[]>('SELECT CONNECTION_ID() AS id');
      const outcome = s.query('SELECT SLEEP(10)').then(() => undefined, (e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await admin(`KILL CONNECTION ${row?.id ?? 0}`);
      return outcome;
    });
    expect(err).toBeInstanceOf(DbSwitchError);
    expect(err).toMatchObject({ code: 'ECONNECTION_LOST' });
    expect(db.stats).toMatchObject({ open: 0, leased: 0 });
    const [[row]] = await db.withSession((s) => s.query<RowDataPacket[]>('SELECT 1 AS ok'));
    expect(row?.['ok']).toBe(1);
  });

  it('kills a statement still running at release on the server, tells its caller, and reuses the connection', async () => {
    const db = await openDb(database);
    let pending: Promise<unknown> | undefined;
    const started = Date.now();
    await db.withSession(async (s) => {
      await s.query('SELECT 1');
      pending = s.query('SELECT SLEEP(5) AS released_while_running').catch((e: unknown) => e);
    });
    expect(await pending).toMatchObject({ code: 'ESESSION_RELEASED' });
    expect(Date.now() - started).toBeLessThan(2000);
    const running = await admin<RowDataPacket[]>("SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE '%released_while_running%' AND INFO NOT LIKE '%PROCESSLIST%'");
    expect(running).toEqual([]);
    expect(db.stats).toMatchObject({ open: 1, idle: 1, leased: 0 });
  });

  it('refuses sessions after close, and close is idempotent', async () => {
    const db = await openDb(database);
    await db.withSession((s) => s.query('SELECT 1'));
    const first = db.close();
    expect(db.close()).toBe(first);
    await first;
    await expect(db.withSession((s) => s.query('SELECT 1'))).rejects.toMatchObject({ code: 'ECLOSED' });
  });
});
