/**
 * The pool's hygiene over time, on a fake clock and a fake server: lifetime under wait_timeout,
 * pre-ping after idle, idle reaping, linger, and idle connections that never keep the process alive.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PING, QUIT } from './fakes/fake-mysql.js';
import { advance, poolHarness, settle, useFakeClock, watch } from './fakes/pool-harness.js';

beforeEach(() => {
  useFakeClock();
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

/** Settings that keep the other timers out of a test's way. */
const QUIET = { pingAfterIdleMs: 86_400_000, idleTimeoutMs: 0, lingerMs: 86_400_000 } as const;

describe('connection lifetime', () => {
  it('replaces at checkout a connection past its lifetime: wait_timeout 10 s allows at most 8 s', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0); // no jitter: exactly 80 % of wait_timeout
    const h = poolHarness(QUIET);
    h.server.waitTimeoutSeconds = 10;
    const first = await h.pool.acquire();
    await h.pool.giveBack(first);
    await advance(7_999);
    const again = await h.pool.acquire();
    expect(again.threadId).toBe(first.threadId);
    await h.pool.giveBack(again);
    // The reaper runs a few ms after the deadline; the checkout at the deadline must not use it.
    await advance(1);
    const next = await h.pool.acquire();
    expect(next.threadId).not.toBe(first.threadId);
    await settle();
    expect(h.fakeOf(first).received.at(-1)).toBe(QUIT);
    expect(h.fakeOf(first).open).toBe(false);
    await h.pool.giveBack(next);
  });

  it('closes an idle connection by timer once its lifetime (within 10 % under 80 % of wait_timeout) is over', async () => {
    const h = poolHarness(QUIET);
    h.server.waitTimeoutSeconds = 10;
    const conn = await h.pool.acquire();
    const server = h.fakeOf(conn);
    await h.pool.giveBack(conn);
    await advance(7_199); // jitter shortens the 8 s by at most 10 %
    expect(server.open).toBe(true);
    expect(h.pool.stats.open).toBe(1);
    await advance(8_010 - 7_199);
    expect(server.open).toBe(false);
    expect(server.received.at(-1)).toBe(QUIT);
    expect(h.pool.stats).toMatchObject({ open: 0, idle: 0 });
  });

  it('closes a connection lent past its lifetime when it is given back', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const h = poolHarness(QUIET);
    h.server.waitTimeoutSeconds = 10;
    const conn = await h.pool.acquire();
    await advance(9_000);
    await h.pool.giveBack(conn);
    await settle();
    expect(h.fakeOf(conn).open).toBe(false);
    expect(h.pool.stats.open).toBe(0);
  });

  it('with pool.maxLifetimeMs = 0 keeps a connection as long as the server allows, not the default 30 min', async () => {
    const h = poolHarness({ ...QUIET, maxLifetimeMs: 0 });
    const conn = await h.pool.acquire();
    await h.pool.giveBack(conn);
    await advance(2 * 3_600_000);
    const again = await h.pool.acquire();
    expect(again.threadId).toBe(conn.threadId);
    expect(h.provider.connects).toBe(1);
    await h.pool.giveBack(again);
  });

  // Regression (fixed in src/pool/connection-pool.ts #scheduleReap): returns early when a reap timer exists, so
  // a connection that goes idle with an earlier deadline waits for the later timer (here 90 s
  // instead of 80 s).
  it('reaps an idle connection at its own deadline even when a later one is already scheduled', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const h = poolHarness({ ...QUIET, idleTimeoutMs: 60_000 });
    h.server.waitTimeoutSeconds = 100; // lifetime 80 s
    const a = await h.pool.acquire(); // opened at 0: expires at 80 s
    await advance(30_000);
    const b = await h.pool.acquire(); // opened at 30 s: idle from 30 s, reaped at 90 s
    await h.pool.giveBack(b);
    await advance(10_000);
    await h.pool.giveBack(a); // idle from 40 s; its lifetime ends first, at 80 s
    await advance(80_010 - 40_000);
    expect(h.fakeOf(a).open).toBe(false);
    expect(h.fakeOf(b).open).toBe(true);
  });
});

describe('pre-ping', () => {
  it('sends no ping for a connection used less than pool.pingAfterIdleMs ago', async () => {
    const h = poolHarness({ pingAfterIdleMs: 5_000 });
    const conn = await h.pool.acquire();
    await h.pool.giveBack(conn);
    await advance(4_999);
    const again = await h.pool.acquire();
    expect(again).toBe(conn);
    expect(h.fakeOf(conn).received).not.toContain(PING);
    await h.pool.giveBack(again);
  });

  it('pings a connection idle longer than pool.pingAfterIdleMs and lends it when it answers', async () => {
    const h = poolHarness({ pingAfterIdleMs: 5_000 });
    const conn = await h.pool.acquire();
    await h.pool.giveBack(conn);
    await advance(5_000);
    const count = h.fakeOf(conn).received.length;
    const again = await h.pool.acquire();
    expect(again).toBe(conn);
    expect(h.fakeOf(conn).since(count)).toEqual([PING]);
    await h.pool.giveBack(again);
  });

  it('replaces silently a connection whose ping fails: the session never sees the dead one', async () => {
    const h = poolHarness({ pingAfterIdleMs: 5_000 });
    const s1 = h.session();
    await s1.query('SELECT 1');
    await s1.release();
    const dead = h.provider.connections[0]!;
    dead.when(PING, { kind: 'fatal', code: 'ECONNRESET' });
    await advance(6_000);
    const s2 = h.session();
    await s2.query('SELECT 2');
    const fresh = h.provider.connections[1]!;
    expect(fresh.received).toContain('SELECT 2');
    expect(dead.received).not.toContain('SELECT 2');
    await s2.release();
  });

  it('replaces a connection whose ping gets no answer within pingTimeoutMs, and closes it', async () => {
    const h = poolHarness({ pingAfterIdleMs: 5_000, pingTimeoutMs: 2_000 });
    const s1 = h.session();
    await s1.query('SELECT 1');
    await s1.release();
    const stuck = h.provider.connections[0]!;
    stuck.when(PING, { kind: 'hang', killable: false });
    await advance(6_000);
    const outcome = watch(h.session().query('SELECT 2'));
    await advance(1_999);
    expect(outcome.state).toBe('pending');
    await advance(1);
    expect(outcome.state).toBe('fulfilled');
    expect(h.provider.connections[1]!.received).toContain('SELECT 2');
    expect(stuck.stream.destroyed).toBe(true);
  });

  it('skips without a ping an idle connection the server closed (restart, wait_timeout)', async () => {
    const h = poolHarness({ pingAfterIdleMs: 5_000 });
    const s1 = h.session();
    await s1.query('SELECT 1');
    await s1.release();
    const gone = h.provider.connections[0]!;
    gone.serverClose();
    await settle();
    expect(h.pool.stats.open).toBe(0);
    const s2 = h.session();
    await expect(s2.query('SELECT 2')).resolves.toBeDefined();
    expect(gone.received).not.toContain(PING);
    await s2.release();
  });
});

describe('idle reaping', () => {
  it('closes a connection idle for pool.idleTimeoutMs while another one stays lent', async () => {
    const h = poolHarness({ idleTimeoutMs: 60_000, pingAfterIdleMs: 3_600_000, lingerMs: 3_600_000 });
    const lent = await h.pool.acquire();
    const idle = await h.pool.acquire();
    await h.pool.giveBack(idle);
    await advance(59_999);
    expect(h.fakeOf(idle).open).toBe(true);
    await advance(10);
    expect(h.fakeOf(idle).open).toBe(false);
    expect(h.fakeOf(idle).received.at(-1)).toBe(QUIT);
    expect(h.fakeOf(lent).open).toBe(true);
    expect(h.pool.stats).toMatchObject({ open: 1, idle: 0 });
    await h.pool.giveBack(lent);
  });

  it('keeps idle connections with pool.idleTimeoutMs = 0', async () => {
    const h = poolHarness({ idleTimeoutMs: 0, pingAfterIdleMs: 3_600_000, lingerMs: 3_600_000 });
    const lent = await h.pool.acquire();
    const idle = await h.pool.acquire();
    await h.pool.giveBack(idle);
    await advance(600_000);
    expect(h.fakeOf(idle).open).toBe(true);
    await h.pool.giveBack(lent);
  });
});

describe('linger', () => {
  it('closes idle connections and then the provider lingerMs after the last release; the next session reopens', async () => {
    const h = poolHarness({ lingerMs: 10_000 });
    const s1 = h.session();
    await s1.query('SELECT 1');
    await s1.release();
    const first = h.provider.connections[0]!;
    await advance(9_999);
    expect(first.open).toBe(true);
    expect(h.provider.closes).toBe(0);
    await advance(1);
    expect(first.open).toBe(false);
    expect(first.received.at(-1)).toBe(QUIT);
    expect(h.provider.closes).toBe(1);
    expect(h.server.timeline).toEqual(['open #1', 'closed #1', 'provider closed']);
    expect(h.pool.stats).toMatchObject({ open: 0, idle: 0, leased: 0 });

    const s2 = h.session();
    await s2.query('SELECT 2');
    expect(h.provider.connections[1]!.received).toContain('SELECT 2');
    expect(h.provider.events).toEqual(['connect', 'close', 'connect']);
    await s2.release();
  });

  it('does not start the linger while a session still holds a connection', async () => {
    const h = poolHarness({ lingerMs: 10_000 });
    const held = await h.pool.acquire();
    const other = await h.pool.acquire();
    await h.pool.giveBack(other);
    await advance(30_000);
    expect(h.provider.closes).toBe(0);
    expect(h.fakeOf(other).open).toBe(true);
    await h.pool.giveBack(held);
  });

  it('makes an acquire during the post-linger close wait for it, then open a NEW connection', async () => {
    const h = poolHarness({ lingerMs: 10_000 });
    h.server.quitDelayMs = 500;
    const s1 = h.session();
    await s1.query('SELECT 1');
    await s1.release();
    const dying = h.provider.connections[0]!;
    await advance(10_000); // the linger is over: the idle connection is being closed (COM_QUIT takes 500 ms)
    expect(dying.received.at(-1)).toBe(QUIT);
    const acquired = watch(h.pool.acquire());
    await advance(499);
    expect(acquired.state).toBe('pending');
    expect(h.provider.closes).toBe(0);
    await advance(1);
    expect(acquired.state).toBe('fulfilled');
    expect(acquired.value!.threadId).not.toBe(dying.threadId);
    expect(h.provider.events).toEqual(['connect', 'close', 'connect']);
    expect(h.server.timeline).toEqual(['open #1', 'closed #1', 'provider closed', 'open #2']);
    await h.pool.giveBack(acquired.value!);
  });

  // Regression: the suspend ignored connects under way; the connection that arrived afterwards
  // went idle in a dormant pool (no linger timer), and the provider's resources it reopened
  // were never closed. Now the suspend waits for the connect, closes what it brought, and only
  // then closes the provider.
  it('closes, after the linger, a connection whose connect was still under way, then the provider', async () => {
    const h = poolHarness({ lingerMs: 1_000, acquireTimeoutMs: 500 });
    h.provider.connectDelayMs = 2_000;
    const waited = watch(h.pool.acquire());
    await advance(500);
    expect(waited.error).toMatchObject({ code: 'EACQUIRE_TIMEOUT' });
    await advance(1_000); // linger over: the suspend waits for the connect under way
    expect(h.provider.closes).toBe(0);
    await advance(500); // the connect finishes now: its connection is closed, then the provider
    expect(h.provider.closes).toBe(1);
    await advance(5_000); // ... and a linger later, nothing may be left open
    expect(h.server.open).toEqual([]);
    expect(h.server.timeline.at(-1)).toBe('provider closed');
  });
});

describe('process hold', () => {
  it('lets the process exit while connections are idle, and holds it while one is lent', async () => {
    const h = poolHarness();
    const conn = await h.pool.acquire();
    const stream = h.fakeOf(conn).stream;
    expect(stream.referenced).toBe(true);
    await h.pool.giveBack(conn);
    expect(stream.referenced).toBe(false);
    const again = await h.pool.acquire();
    expect(again).toBe(conn);
    expect(stream.referenced).toBe(true);
    await h.pool.giveBack(again);
    expect(stream.referenced).toBe(false);
  });
});
