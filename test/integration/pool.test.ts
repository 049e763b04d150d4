import type { Duplex } from 'node:stream';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { runScript } from '../support/child-script.js';
import { streamOf } from '../../src/driver/mysql2.js';
import { admin, basicEnv, eventually, openDb, serverConnections, useDatabase } from '../support/test-db.js';

const database = useDatabase('pool');

type TestDb = Awaited<ReturnType<typeof openDb>>;

async function connectionId(db: TestDb): Promise<number> {
  const [[row]] = await db.withSession((s) => s.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id'));
  return Number(row?.['id']);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('pool hygiene on a real MariaDB', () => {
  it('replaces a connection killed from another session, with no error to the next borrower', async () => {
    const db = await openDb(database);
    const first = await connectionId(db);
    await admin(`KILL CONNECTION ${first}`);
    // KILL can answer before the victim's thread has closed its socket; the kill is done when
    // the connection leaves the processlist.
    expect(await eventually(async () => !(await serverConnections(database)).includes(first))).toBe(true);
    const second = await connectionId(db);
    expect(second).not.toBe(first);
    expect(db.stats.open).toBe(1);
  });

  it('runs the first statement on a new connection when the borrowed one was closed before it was sent', async () => {
    const db = await openDb(database);
    await db.withSession(async (s) => {
      const borrowed = await s.connect();
      await admin(`KILL CONNECTION ${borrowed.threadId}`);
      expect(await eventually(async () => !(await serverConnections(database)).includes(borrowed.threadId))).toBe(true);
      await sleep(20);
      const [[row]] = await s.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id');
      expect(row?.['id']).not.toBe(borrowed.threadId);
    });
    expect(db.stats).toMatchObject({ open: 1, leased: 0 });
  });

  // Regression (found by bench/aws.js): a session that destroyed its raw connection gave it back
  // before the socket had closed; the pool kept it, and the next session's statement failed with
  // ECONNECTION_LOST ("Can't add new command when connection is in closed state").
  it('never lends again a connection the application destroyed or ended on the raw driver', async () => {
    const db = await openDb(database, { DB_POOL_MAX: '1' });
    const seen = new Set<number>();
    for (let round = 0; round < 10; round++) {
      const [[row]] = await db.withSession(async (s) => {
        const result = await s.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id');
        const raw = await s.connect();
        if (round % 2 === 0) raw.destroy();
        else void raw.end();
        return result;
      });
      seen.add(Number(row?.['id']));
    }
    expect(seen.size).toBe(10);
    // And a statement on a raw connection destroyed within the same session goes to a new one.
    await db.withSession(async (s) => {
      const raw = await s.connect();
      raw.destroy();
      const [[row]] = await s.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id');
      expect(row?.['id']).not.toBe(raw.threadId);
    });
    expect(db.stats).toMatchObject({ leased: 0 });
    expect(await eventually(async () => (await serverConnections(database)).length <= 1)).toBe(true);
  });

  it('pings a connection that sat idle and replaces it when it is dead', async () => {
    const db = await openDb(database, { DB_POOL_PING_AFTER_IDLE_MS: '0' });
    const first = await connectionId(db);
    expect(await connectionId(db)).toBe(first);
    // The server closes the connection while this process does not look (a frozen Lambda,
    // a busy event loop): at checkout the socket still seems open, only the ping tells.
    const stream = await db.withSession(async (s) => streamOf(await s.connect()) as Duplex);
    stream.pause();
    await admin(`KILL CONNECTION ${first}`);
    await sleep(50);
    stream.resume();
    const second = await connectionId(db);
    expect(second).not.toBe(first);
  });

  it('replaces a connection older than pool.maxLifetimeMs', async () => {
    const db = await openDb(database, { DB_POOL_MAX_LIFETIME_MS: '300' });
    const first = await connectionId(db);
    await sleep(350);
    expect(await connectionId(db)).not.toBe(first);
  });

  it('closes idle connections after pool.idleTimeoutMs, as the processlist shows', async () => {
    const db = await openDb(database, { DB_POOL_IDLE_TIMEOUT_MS: '300' });
    await Promise.all(Array.from({ length: 3 }, () => db.withSession((s) => s.query('SELECT SLEEP(0.05)'))));
    expect((await serverConnections(database)).length).toBe(3);
    expect(await eventually(async () => (await serverConnections(database)).length === 0, 3000)).toBe(true);
    expect(db.stats.open).toBe(0);
  });

  it('closes idle connections after the linger once the last session is released', async () => {
    const db = await openDb(database, { DB_LINGER_MS: '200' });
    await db.withSession((s) => s.query('SELECT 1'));
    expect((await serverConnections(database)).length).toBe(1);
    expect(await eventually(async () => (await serverConnections(database)).length === 0, 3000)).toBe(true);
    // and the next session opens a new one
    await db.withSession((s) => s.query('SELECT 1'));
    expect(db.stats.open).toBe(1);
  });

  it('fails with EACQUIRE_TIMEOUT naming the settings when every connection stays busy', async () => {
    const db = await openDb(database, { DB_POOL_MAX: '1', DB_POOL_ACQUIRE_TIMEOUT_MS: '150' });
    const holder = await db.session();
    await holder.query('SELECT 1');
    const started = Date.now();
    const err = await db.withSession((s) => s.query('SELECT 1')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'EACQUIRE_TIMEOUT' });
    expect((err as Error).message).toContain('DB_POOL_MAX');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    await holder.release();
    await db.withSession((s) => s.query('SELECT 1'));
  });

  it('lets a session that timed out waiting try again', async () => {
    const db = await openDb(database, { DB_POOL_MAX: '1', DB_POOL_ACQUIRE_TIMEOUT_MS: '100' });
    const holder = await db.session();
    await holder.query('SELECT 1');
    await db.withSession(async (s) => {
      await expect(s.query('SELECT 1')).rejects.toMatchObject({ code: 'EACQUIRE_TIMEOUT' });
      await holder.release();
      const [[row]] = await s.query<RowDataPacket[]>('SELECT 2 AS two');
      expect(row?.['two']).toBe(2);
    });
  });

  it('serves 50 concurrent sessions on pool.max connections', async () => {
    const db = await openDb(database, { DB_POOL_MAX: '5' });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => db.withSession(async (s) => (await s.query<RowDataPacket[]>('SELECT ? AS i', [i]))[0][0]?.['i'] as number)),
    );
    expect(results).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(db.stats.open).toBeLessThanOrEqual(5);
    expect(db.stats).toMatchObject({ leased: 0, waiting: 0 });
  });

  it('close() waits for a session in flight, then closes everything', async () => {
    const db = await openDb(database);
    const running = db.withSession((s) => s.query<RowDataPacket[]>('SELECT SLEEP(0.3) AS done'));
    await sleep(50);
    await db.close();
    const [[row]] = await running;
    expect(row?.['done']).toBe(0);
    expect(db.stats.open).toBe(0);
    expect(await eventually(async () => (await serverConnections(database)).length === 0)).toBe(true);
  });

  it('close() gives up waiting after pool.closeTimeoutMs', async () => {
    const db = await openDb(database, { DB_POOL_CLOSE_TIMEOUT_MS: '100' });
    const running = db.withSession((s) => s.query('SELECT SLEEP(5)')).catch((e: unknown) => e);
    await sleep(50);
    const started = Date.now();
    await db.close();
    expect(Date.now() - started).toBeLessThan(2000);
    // The statement still running was cancelled on the server, and its caller told why.
    expect(await running).toMatchObject({ code: 'ECLOSED' });
  });

  it('lets a script exit by itself right after its last session, without close()', async () => {
    const run = await runScript("for await (const s of db.getDb()) { await s.query('SELECT 1'); }\nprocess.stdout.write('released\\n');", basicEnv(database));
    expect(run.code).toBe(0);
    expect(run.markedAt).toBeGreaterThan(0);
    expect(Date.now() - run.markedAt).toBeLessThan(2000);
  });

  it('finishes a script whose last line is await db.close() (regression: idle sockets let Node exit mid-close)', async () => {
    const run = await runScript("await db.withSession((s) => s.query('SELECT 1'));\nawait db.close();\nprocess.stdout.write('closed\\n');", basicEnv(database), 'closed');
    expect(run).toMatchObject({ code: 0, stdout: 'closed\n' });
  });
});
