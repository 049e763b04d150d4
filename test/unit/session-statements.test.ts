/**
 * A statement always settles, through DbSession, the pool and a fake server: given up on at
 * release, timeout or abort (and killed on the server), or lost with its connection (at once,
 * without waiting for mysql2); and the raw connection of s.connect() is revoked on release.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DbSwitchError } from '../../src/errors.js';
import { PING, QUIT } from './fakes/fake-mysql.js';
import { advance, poolHarness, settle, useFakeClock, watch } from './fakes/pool-harness.js';

beforeEach(() => {
  useFakeClock();
});

afterEach(() => {
  vi.useRealTimers();
});

/** A statement that runs until KILL QUERY stops it. */
const LONG = 'SELECT SLEEP(600)';

function harness(): ReturnType<typeof poolHarness> {
  const h = poolHarness();
  h.server.when(LONG, { kind: 'hang' });
  return h;
}

describe('a statement still running at release', () => {
  it('rejects with ESESSION_RELEASED, is killed on the server, and the connection is reused once the server answered', async () => {
    const h = harness();
    const s = h.session();
    const running = watch(s.query(LONG));
    await settle();
    const conn = h.provider.connections[0]!;
    await s.release();
    expect(running.error).toBeInstanceOf(DbSwitchError);
    expect(running.error).toMatchObject({ code: 'ESESSION_RELEASED' });
    const control = h.provider.connections[1]!;
    expect(control.received).toEqual([`KILL QUERY ${conn.threadId}`]);
    // The connection went back only once the server had answered the killed statement: a ping
    // queued behind it came back.
    const afterKill = conn.received.slice(conn.received.indexOf(LONG) + 1);
    expect(afterKill.length).toBeGreaterThan(0);
    expect(afterKill.every((command) => command === PING)).toBe(true);
    expect(h.pool.stats).toMatchObject({ open: 1, idle: 1 });
    const next = h.session();
    await next.query('SELECT 2');
    expect(conn.received.at(-1)).toBe('SELECT 2');
    await next.release();
  });

  it('closes the connection when the kill fails', async () => {
    const h = harness();
    h.server.when(/^KILL QUERY/, { kind: 'error', code: 'ER_KILL_DENIED_ERROR', message: 'You are not owner of thread' });
    const s = h.session();
    const running = watch(s.query(LONG));
    await settle();
    const conn = h.provider.connections[0]!;
    await s.release();
    expect(running.error).toMatchObject({ code: 'ESESSION_RELEASED' });
    expect(conn.stream.destroyed).toBe(true);
    expect(conn.open).toBe(false);
    expect(h.pool.stats.open).toBe(0);
    const next = h.session();
    await next.query('SELECT 2');
    expect(h.provider.connections.at(-1)!.received).toContain('SELECT 2');
    await next.release();
  });

  it('closes the connection when the server does not stop the killed statement within settleTimeoutMs', async () => {
    const h = poolHarness({ settleTimeoutMs: 7_000 });
    h.server.when(LONG, { kind: 'hang', killable: false });
    const s = h.session();
    const running = watch(s.query(LONG));
    await settle();
    const conn = h.provider.connections[0]!;
    const released = watch(s.release());
    await settle();
    expect(running.error).toMatchObject({ code: 'ESESSION_RELEASED' });
    await advance(6_999);
    expect(released.state).toBe('pending');
    await advance(1);
    expect(released.state).toBe('fulfilled');
    expect(conn.stream.destroyed).toBe(true);
  });
});

describe('statement timeout', () => {
  it('rejects with ETIMEOUT at the deadline, kills the statement, and the next statement of the session works', async () => {
    const h = harness();
    const s = h.session();
    const running = watch(s.query({ sql: LONG, timeout: 500 }));
    await advance(499);
    expect(running.state).toBe('pending');
    await advance(1);
    expect(running.error).toMatchObject({ code: 'ETIMEOUT' });
    expect((running.error as Error).message).toContain('500 ms');
    const conn = h.provider.connections[0]!;
    expect(h.provider.connections[1]!.received).toEqual([`KILL QUERY ${conn.threadId}`]);
    await expect(s.query('SELECT 2')).resolves.toBeDefined();
    expect(conn.received.at(-1)).toBe('SELECT 2');
    expect(h.pool.stats.open).toBe(1);
    await s.release();
  });

  it('applies db.statementTimeoutMs to every statement of a session, and a per-statement timeout over it', async () => {
    const h = harness();
    const s = h.session(1_000);
    const byDefault = watch(s.query(LONG));
    await advance(1_000);
    expect(byDefault.error).toMatchObject({ code: 'ETIMEOUT' });
    const longer = watch(s.query({ sql: LONG, timeout: 3_000 }));
    await advance(2_999);
    expect(longer.state).toBe('pending');
    await advance(1);
    expect(longer.error).toMatchObject({ code: 'ETIMEOUT' });
    await s.release();
  });

  it('refuses a timeout that is not a number of ms with EUSAGE', () => {
    const h = harness();
    expect(() => h.session().query({ sql: 'SELECT 1', timeout: -1 })).toThrow(expect.objectContaining({ code: 'EUSAGE' }) as Error);
  });
});

describe('AbortSignal', () => {
  it('rejects with ECANCELLED when the signal aborts, and kills the statement', async () => {
    const h = harness();
    const s = h.session();
    const controller = new AbortController();
    const running = watch(s.query({ sql: LONG, signal: controller.signal }));
    await settle();
    const reason = new Error('client went away');
    controller.abort(reason);
    await settle();
    expect(running.error).toMatchObject({ code: 'ECANCELLED' });
    expect((running.error as Error).cause).toBe(reason);
    expect(h.provider.connections[1]!.received).toEqual([`KILL QUERY ${h.provider.connections[0]!.threadId}`]);
    await s.release();
  });

  it('rejects at once with ECANCELLED and sends nothing when the signal had already aborted', async () => {
    const h = harness();
    const s = h.session();
    await expect(s.query({ sql: 'SELECT 1', signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ECANCELLED' });
    expect(h.provider.connects).toBe(0);
    await s.query('SELECT 2');
    await expect(s.query({ sql: 'SELECT 3', signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ECANCELLED' });
    expect(h.provider.connections[0]!.received).not.toContain('SELECT 3');
    await s.release();
  });

  // Regression (fixed in src/pool/running-statement.ts constructor, src/db-session.ts #run): the signal is checked
  // only before the connection is borrowed; an 'abort' that fired during the wait is never seen
  // again (addEventListener on an aborted signal does not fire), so the statement runs anyway.
  it('never sends a statement whose signal aborted while the session waited for a connection', async () => {
    const h = poolHarness({ max: 1 });
    const holder = h.session();
    await holder.query('SELECT 1');
    const s = h.session();
    const controller = new AbortController();
    const waiting = watch(s.query({ sql: 'SELECT expensive_report()', signal: controller.signal }));
    await settle();
    controller.abort();
    await holder.release();
    await settle();
    expect(waiting.error).toMatchObject({ code: 'ECANCELLED' });
    expect(h.provider.connections[0]!.received).not.toContain('SELECT expensive_report()');
    await s.release();
  });
});

describe('the connection lost mid-statement', () => {
  it('rejects with ECONNECTION_LOST at once when the server ends the connection, and the next statement borrows a new one', async () => {
    const h = harness();
    const s = h.session();
    const running = watch(s.query(LONG));
    await settle();
    const lost = h.provider.connections[0]!;
    // A half-closed channel: 'end' only; mysql2 alone would wait forever.
    lost.serverEnd();
    await settle();
    expect(running.error).toBeInstanceOf(DbSwitchError);
    expect(running.error).toMatchObject({ code: 'ECONNECTION_LOST' });
    expect(lost.stream.destroyed).toBe(true); // our side closed too: no CLOSE-WAIT on the bastion
    await s.query('SELECT 2');
    const fresh = h.provider.connections[1]!;
    expect(fresh).not.toBe(lost);
    expect(fresh.received.at(-1)).toBe('SELECT 2');
    await s.release();
    expect(h.pool.stats).toMatchObject({ open: 1, idle: 1, leased: 0 });
  });

  it('runs a statement once more on a new connection when its connection died before the session used it', async () => {
    const h = harness();
    const s = h.session();
    await s.connect(); // borrowed, nothing run yet
    const stale = h.provider.connections[0]!;
    stale.serverEnd();
    await settle();
    await expect(s.query('SELECT 1')).resolves.toBeDefined();
    expect(stale.received).not.toContain('SELECT 1');
    expect(h.provider.connections[1]!.received.at(-1)).toBe('SELECT 1');
    await s.release();
  });

  it('does not run a statement again after its connection had served the session: the loss is reported', async () => {
    const h = harness();
    const s = h.session();
    await s.query('SELECT 1');
    h.provider.connections[0]!.serverEnd();
    await settle();
    await expect(s.query('SELECT 2')).rejects.toMatchObject({ code: 'ECONNECTION_LOST' });
    await expect(s.query('SELECT 3')).resolves.toBeDefined();
    await s.release();
  });

  it('rejects with ECONNECTION_LOST when mysql2 fails the statement fatally, and never pools that connection', async () => {
    const h = poolHarness();
    h.server.when('SELECT broken()', { kind: 'fatal', code: 'ECONNRESET' });
    const s = h.session();
    await expect(s.query('SELECT broken()')).rejects.toMatchObject({ code: 'ECONNECTION_LOST' });
    await s.query('SELECT 2');
    expect(h.provider.connections).toHaveLength(2);
    await s.release();
    expect(h.pool.stats.open).toBe(1);
  });

  it('refuses further statements with ECONNECTION_LOST when a transaction was open, rather than run outside it', async () => {
    const h = harness();
    const s = h.session();
    await s.query('START TRANSACTION');
    await s.query("UPDATE account SET balance = balance - 10 WHERE id = 1");
    const running = watch(s.query(LONG));
    await settle();
    h.provider.connections[0]!.serverEnd();
    await settle();
    expect(running.error).toMatchObject({ code: 'ECONNECTION_LOST' });
    const next = watch(s.query("UPDATE account SET balance = balance + 10 WHERE id = 2"));
    await settle();
    expect(next.error).toMatchObject({ code: 'ECONNECTION_LOST' });
    expect((next.error as Error).message).toMatch(/transaction/);
    expect(h.provider.connects).toBe(1);
    await s.release();
    expect(h.pool.stats).toMatchObject({ open: 0, leased: 0 });
  });

  it('fails with the loss a statement queued behind it on the raw connection', async () => {
    const h = harness();
    const s = h.session();
    const first = watch(s.query(LONG));
    await settle();
    const conn = h.provider.connections[0]!;
    const raw = await s.connect();
    const queued = watch(raw.query('SELECT 2'));
    await settle();
    conn.serverEnd();
    await settle();
    expect(first.error).toMatchObject({ code: 'ECONNECTION_LOST' });
    expect(queued.state).toBe('rejected');
    await s.release();
  });
});

describe('the control connection', () => {
  it('opens one control connection for every cancel, not one per kill', async () => {
    const h = harness();
    const s = h.session();
    for (let i = 0; i < 3; i++) {
      const running = watch(s.query({ sql: LONG, timeout: 100 }));
      await advance(100);
      expect(running.error).toMatchObject({ code: 'ETIMEOUT' });
    }
    const target = h.provider.connections[0]!;
    expect(h.provider.connections).toHaveLength(2);
    expect(h.provider.connections[1]!.received).toEqual(Array.from({ length: 3 }, () => `KILL QUERY ${target.threadId}`));
    await s.release();
  });

  // Regression (fixed in src/pool/control-connection.ts kill): after a KILL QUERY that got no answer within
  // cancelTimeoutMs the control connection is kept, so every later KILL queues behind the
  // unanswered one and times out too (a NAT that silently dropped the idle control connection
  // disables cancelling until TCP gives up). The pool closes a data connection in that state.
  it('replaces a control connection whose KILL QUERY got no answer, for the next cancel', async () => {
    const h = poolHarness({ cancelTimeoutMs: 5_000 });
    h.server.when(LONG, { kind: 'hang' });
    h.server.when(/^KILL QUERY/, { kind: 'hang', killable: false }, 1);
    const s1 = h.session();
    const first = watch(s1.query({ sql: LONG, timeout: 100 }));
    await advance(100);
    expect(first.error).toMatchObject({ code: 'ETIMEOUT' });
    await advance(5_000); // no answer to the kill: that data connection is closed
    const [a, control] = h.provider.connections;
    expect(a!.stream.destroyed).toBe(true);
    await s1.release();

    const s2 = h.session();
    const second = watch(s2.query({ sql: LONG, timeout: 100 }));
    await advance(100);
    expect(second.error).toMatchObject({ code: 'ETIMEOUT' });
    const b = h.provider.connections.find((conn) => conn !== a && conn !== control && conn.received.includes(LONG))!;
    await advance(5_000);
    // Killed through a control connection that answers: the statement stopped, the connection kept.
    expect(b.stream.destroyed).toBe(false);
    expect(h.provider.connections.some((conn) => conn !== control && conn.received.includes(`KILL QUERY ${b.threadId}`))).toBe(true);
    await s2.release();
    expect(h.pool.stats).toMatchObject({ open: 1, idle: 1 });
  });
});

describe('s.connect()', () => {
  it('hands out the raw connection; after release every call fails with ESESSION_RELEASED while properties read through', async () => {
    const h = harness();
    const s = h.session();
    const raw = await s.connect();
    const conn = h.provider.connections[0]!;
    expect(raw.threadId).toBe(conn.threadId);
    await raw.query('SELECT 1');
    expect(conn.received.at(-1)).toBe('SELECT 1');
    await s.release();
    await expect(raw.query('SELECT 2')).rejects.toMatchObject({ code: 'ESESSION_RELEASED' });
    // mysql2's promise connection keeps the callback one as `connection` (untyped).
    const callbackApi = (raw as unknown as { connection: { query(sql: string, callback: () => void): void } }).connection;
    expect(() => {
      callbackApi.query('SELECT 3', () => undefined);
    }).toThrow(expect.objectContaining({ code: 'ESESSION_RELEASED' }) as Error);
    expect(raw.threadId).toBe(conn.threadId);
    expect(conn.received).not.toContain('SELECT 2');
    expect(conn.received).not.toContain('SELECT 3');
  });

  it('returns the same raw connection while the session keeps its connection', async () => {
    const h = harness();
    const s = h.session();
    expect(await s.connect()).toBe(await s.connect());
    await s.release();
  });

  it('stops a statement sent on the raw connection and not awaited before the connection is reused', async () => {
    const h = harness();
    const s = h.session();
    const raw = await s.connect();
    const running = watch(raw.query(LONG));
    await settle();
    const conn = h.provider.connections[0]!;
    await s.release();
    expect(h.provider.connections[1]!.received).toEqual([`KILL QUERY ${conn.threadId}`]);
    expect(running.error).toMatchObject({ code: 'ER_QUERY_INTERRUPTED' });
    expect(conn.received.at(-1)).not.toBe(QUIT);
    expect(h.pool.stats).toMatchObject({ open: 1, idle: 1 });
  });
});
