import { pino } from 'pino';
import { vi } from 'vitest';
import { DbSession } from '../../../src/db-session.js';
import { ConnectionPool, type PoolOptions } from '../../../src/pool/connection-pool.js';
import { giveUpError } from '../../../src/pool/give-up-error.js';
import { wasNotSent, type PooledConnection } from '../../../src/pool/pooled-connection.js';
import { changesUntrackedState, switchesSchema } from '../../../src/sql/session-state-hints.js';
import { FakeDriver, FakeServer, type FakeConnection } from './fake-mysql.js';
import { FakeProvider } from './fake-provider.js';

/** The pool settings at their documented defaults (and the bounds src/db.ts derives), overridable. */
export function poolOptions(overrides: Partial<PoolOptions> = {}): PoolOptions {
  return {
    max: 10,
    acquireTimeoutMs: 10_000,
    idleTimeoutMs: 60_000,
    pingAfterIdleMs: 5_000,
    pingTimeoutMs: 10_000,
    lingerMs: 10_000,
    cancelTimeoutMs: 5_000,
    settleTimeoutMs: 7_000,
    initSql: [],
    database: undefined,
    maxLifetimeMs: 1_800_000,
    resetOnRelease: 'auto',
    cleanupTimeoutMs: 10_000,
    ...overrides,
  };
}

export interface Harness {
  readonly server: FakeServer;
  readonly provider: FakeProvider;
  readonly driver: FakeDriver;
  readonly pool: ConnectionPool;
  /** A session over the pool, as Db makes them. */
  session(statementTimeoutMs?: number): DbSession<PooledConnection>;
  /** The fake behind a pooled connection. */
  fakeOf(conn: PooledConnection): FakeConnection;
}

/** A pool over a fake provider and driver: the real pool, session and hints; a fake server. */
export function poolHarness(overrides: Partial<PoolOptions> = {}, server: FakeServer = new FakeServer()): Harness {
  const provider = new FakeProvider(server);
  const driver = new FakeDriver();
  const pool = new ConnectionPool(provider, poolOptions(overrides), { changesUntrackedState, switchesSchema }, pino({ level: 'silent' }), driver);
  return {
    server,
    provider,
    driver,
    pool,
    session: (statementTimeoutMs = 0) => new DbSession<PooledConnection>(pool, { statementTimeoutMs, onStatement: undefined, wasNotSent, giveUpError }),
    fakeOf: (conn) => {
      const found = server.accepted.find((candidate) => candidate.threadId === conn.threadId);
      if (found === undefined) throw new Error(`no fake connection with thread id ${conn.threadId}`);
      return found;
    },
  };
}

/** A promise's outcome, readable synchronously, so a test can say "not yet" at a given instant. */
export interface Outcome<T> {
  readonly state: 'pending' | 'fulfilled' | 'rejected';
  readonly value: T | undefined;
  readonly error: unknown;
}

/** Watches `promise` (which then counts as handled). */
export function watch<T>(promise: Promise<T>): Outcome<T> {
  const outcome: { state: Outcome<T>['state']; value: T | undefined; error: unknown } = { state: 'pending', value: undefined, error: undefined };
  promise.then(
    (value) => {
      outcome.state = 'fulfilled';
      outcome.value = value;
    },
    (err: unknown) => {
      outcome.state = 'rejected';
      outcome.error = err;
    },
  );
  return outcome;
}

/**
 * Fakes the clock (timers and Date) but not setImmediate, so {@link settle} can let every
 * pending continuation run without moving time.
 */
export function useFakeClock(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
}

/** Lets every promise continuation (and microtask) run, without moving the fake clock. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Moves the fake clock by `ms`, running what falls due, then lets continuations run. */
export async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await settle();
}
