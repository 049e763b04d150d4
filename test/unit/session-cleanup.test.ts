/**
 * What a released session leaves for the next one, through DbSession, the pool and a fake
 * server: nothing extra when nothing changed, ROLLBACK for an open transaction, a reset (and the
 * connection's setup again) when session state changed, a closed connection when it cannot be
 * put back. The fake server flags state changes as MariaDB does with session_track_state_change
 * on, and does not flag what the statement-text hints must catch.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PoolOptions } from '../../src/pool/connection-pool.js';
import { QUIT, RESET, type FakeConnection } from './fakes/fake-mysql.js';
import { poolHarness, useFakeClock, type Harness } from './fakes/pool-harness.js';

beforeEach(() => {
  useFakeClock();
});

afterEach(() => {
  vi.useRealTimers();
});

const TRACKING_ON = 'SET SESSION session_track_state_change = 1';
const INIT_SQL = ["SET time_zone = '+00:00'", "SET SESSION sql_mode = 'STRICT_ALL_TABLES'"];

/**
 * Runs `statements` in one session, releases it, and returns what the connection received
 * after the session's own statements (the cleanup), and the connection.
 */
async function cleanupAfter(h: Harness, statements: readonly string[]): Promise<{ cleanup: string[]; conn: FakeConnection }> {
  const s = h.session();
  for (const sql of statements) await s.query(sql);
  const conn = h.provider.connections.at(-1)!;
  const before = conn.received.length;
  await s.release();
  return { cleanup: conn.since(before), conn };
}

function harness(overrides: Partial<PoolOptions> = {}): Harness {
  return poolHarness({ initSql: INIT_SQL, database: 'app', ...overrides });
}

describe('cleanup on release (pool.resetOnRelease = auto)', () => {
  it('sends nothing when the session changed nothing, and the next session gets the same connection', async () => {
    const h = harness();
    const { cleanup, conn } = await cleanupAfter(h, ['SELECT 1', 'SELECT * FROM t WHERE id = 2']);
    expect(cleanup).toEqual([]);
    const next = h.session();
    await next.query('SELECT 3');
    expect(conn.received.at(-1)).toBe('SELECT 3');
    expect(h.provider.connects).toBe(1);
    await next.release();
  });

  it('sets up a new connection: state tracking, DB_INIT_SQL, wait_timeout', async () => {
    const h = harness();
    const { conn } = await cleanupAfter(h, ['SELECT 1']);
    expect(conn.received.slice(0, 4)).toEqual([TRACKING_ON, ...INIT_SQL, 'SELECT @@SESSION.wait_timeout AS waitTimeout']);
  });

  it('only rolls back a transaction left open', async () => {
    const h = harness();
    const { cleanup, conn } = await cleanupAfter(h, ['START TRANSACTION', "UPDATE t SET x = 1 WHERE id = 2"]);
    expect(cleanup).toEqual(['ROLLBACK']);
    expect(conn.session.inTransaction).toBe(false);
  });

  it('resets after a flagged state change, then turns tracking on and runs DB_INIT_SQL again', async () => {
    const h = harness();
    const { cleanup, conn } = await cleanupAfter(h, ['SET @cart = 42']);
    expect(cleanup).toEqual([RESET, TRACKING_ON, ...INIT_SQL]);
    expect(conn.session.tracking).toBe(true);
    // Clean again: the next session that changes nothing costs nothing.
    expect((await cleanupAfter(h, ['SELECT @cart'])).cleanup).toEqual([]);
  });

  it('switches back to DB_NAME after a reset when the session ran USE', async () => {
    const h = harness();
    const { cleanup, conn } = await cleanupAfter(h, ['USE reporting', 'SELECT 1']);
    expect(cleanup).toEqual([RESET, TRACKING_ON, ...INIT_SQL, 'USE `app`']);
    expect(conn.session.schema).toBe('app');
  });

  it('closes the connection instead when the session ran USE and no DB_NAME is set', async () => {
    const h = harness({ database: undefined });
    const { cleanup, conn } = await cleanupAfter(h, ['USE reporting']);
    expect(cleanup).toEqual([QUIT]);
    expect(conn.open).toBe(false);
    const next = h.session();
    await next.query('SELECT 1');
    expect(h.provider.connections.at(-1)).not.toBe(conn);
    await next.release();
  });

  it.each([
    ['SELECT @total := 1', 'a user variable assigned in a SELECT'],
    ["SELECT GET_LOCK('nightly-job', 10)", 'a user lock'],
    ['SELECT id INTO @last FROM t LIMIT 1', 'SELECT ... INTO @var'],
    ['LOCK TABLES t WRITE', 'LOCK TABLES'],
  ])('resets after %s (%s), which the server does not flag', async (sql) => {
    const h = harness();
    const { cleanup } = await cleanupAfter(h, [sql]);
    expect(cleanup).toEqual([RESET, TRACKING_ON, ...INIT_SQL]);
  });

  it("does not reset for the text GET_LOCK( inside a string literal", async () => {
    const h = harness();
    const { cleanup } = await cleanupAfter(h, ["SELECT 'GET_LOCK(' AS note"]);
    expect(cleanup).toEqual([]);
  });

  it('sees statements sent on the raw connection from s.connect(): their state changes are reset too', async () => {
    const h = harness();
    const s = h.session();
    const raw = await s.connect();
    await raw.query('SELECT @seen := 1');
    const conn = h.provider.connections[0]!;
    const before = conn.received.length;
    await s.release();
    expect(conn.since(before)).toEqual([RESET, TRACKING_ON, ...INIT_SQL]);
  });

  it('does not count its own transaction control as a change: a committed transaction costs nothing', async () => {
    const h = harness();
    const s = h.session();
    await s.transaction(async (tx) => {
      await tx.query('UPDATE t SET x = 1 WHERE id = 2');
    }, { isolationLevel: 'READ COMMITTED' });
    const conn = h.provider.connections[0]!;
    const before = conn.received.length;
    await s.release();
    expect(conn.since(before)).toEqual([]);
    expect(conn.received).toContain('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
  });

  it('resets every used connection when the server cannot report state changes', async () => {
    const h = harness();
    h.server.tracksState = false;
    const { cleanup } = await cleanupAfter(h, ['SELECT 1']);
    expect(cleanup).toEqual([RESET, TRACKING_ON, ...INIT_SQL]);
  });

  it('closes the connection when the cleanup fails', async () => {
    const h = harness();
    h.server.when('ROLLBACK', { kind: 'error', code: 'ER_LOCK_WAIT_TIMEOUT' });
    const { cleanup, conn } = await cleanupAfter(h, ['START TRANSACTION']);
    expect(cleanup).toEqual(['ROLLBACK', QUIT]);
    expect(conn.open).toBe(false);
  });
});

describe('pool.resetOnRelease = always / never', () => {
  it('always: resets a connection the session used, even when nothing changed', async () => {
    const h = harness({ resetOnRelease: 'always' });
    const { cleanup } = await cleanupAfter(h, ['SELECT 1']);
    expect(cleanup).toEqual([RESET, TRACKING_ON, ...INIT_SQL]);
  });

  it('always: sends nothing for a session that ran no statement', async () => {
    const h = harness({ resetOnRelease: 'always' });
    const s = h.session();
    await s.connect();
    const conn = h.provider.connections[0]!;
    const before = conn.received.length;
    await s.release();
    expect(conn.since(before)).toEqual([]);
  });

  it('never: only rolls back, even after a state change', async () => {
    const h = harness({ resetOnRelease: 'never' });
    const { cleanup } = await cleanupAfter(h, ['SET @cart = 42', 'START TRANSACTION']);
    expect(cleanup).toEqual(['ROLLBACK']);
  });

  it('never: sends nothing after a state change outside a transaction', async () => {
    const h = harness({ resetOnRelease: 'never' });
    const { cleanup } = await cleanupAfter(h, ['SET @cart = 42']);
    expect(cleanup).toEqual([]);
  });
});
