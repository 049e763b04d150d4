import type { DbProvider } from '../db-provider.js';
import { settling, type BorrowCallback, type ConnectionLender, type GiveUpReason } from '../db-session.js';
import { DbSwitchError, isDbSwitchError } from '../errors.js';
import { settingLabel } from '../config/setting-label.js';
import type { Logger } from '../logging/create-logger.js';
import { cleanUp, setUpNewConnection, type SessionSetup } from './connection-setup.js';
import { mysql2Driver, type ConnectionDriver } from './connection-driver.js';
import { ControlConnection } from './control-connection.js';
import { PooledConnection } from './pooled-connection.js';
import type { StateHints } from './session-state.js';
import { WaitingQueue } from './waiting-queue.js';

/** Pool settings; see `pool.*` and `db.*` in the configuration for their meaning and defaults. */
export interface PoolOptions extends SessionSetup {
  readonly max: number;
  readonly acquireTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly pingAfterIdleMs: number;
  /** Bound on a pre-ping, after which the connection counts as dead. */
  readonly pingTimeoutMs: number;
  readonly lingerMs: number;
  /** Bound on a cancel: opening the control connection and KILL QUERY. */
  readonly cancelTimeoutMs: number;
  /** How long to wait for the server to stop a killed statement before closing its connection. */
  readonly settleTimeoutMs: number;
}

/** Counts for diagnostics and tests. */
export interface PoolStats {
  /** Connections open (idle, leased or being cleaned), not counting the control connection. */
  readonly open: number;
  readonly idle: number;
  /** Sessions holding a connection, or acquiring one. */
  readonly leased: number;
  /** New connections being opened. */
  readonly opening: number;
  /** Sessions waiting for a connection. */
  readonly waiting: number;
}

/**
 * The pool's life. Nothing is open until the first session; after the last one ends, idle
 * connections stay `lingerMs`, then everything closes, the provider's too (the SSH connection),
 * and the next session opens it all again. `close()` drains (the sessions in flight still get
 * connections, the ones waiting for one included, up to the bound), then closes for good.
 */
type Phase =
  | { readonly name: 'dormant' }
  | { readonly name: 'active' }
  | { readonly name: 'lingering'; readonly timer: NodeJS.Timeout }
  | { readonly name: 'suspending'; readonly done: Promise<void> }
  | { readonly name: 'draining'; readonly done: Promise<void> }
  | { readonly name: 'closing'; readonly done: Promise<void> }
  | { readonly name: 'closed'; readonly done: Promise<void> };

/**
 * A pool of connections opened by a provider, with the hygiene mysql2's own pool lacks: a ping
 * before handing out a connection that sat idle, a lifetime kept under the server's
 * `wait_timeout`, idle connections really closed, session state reset only when a session
 * changed it, statements given up on killed on the server, and idle sockets that never keep the
 * process alive.
 *
 * Idle connections form a stack: the most recently used goes out first, so the rest age and get
 * reaped when load drops.
 */
export class ConnectionPool implements ConnectionLender<PooledConnection> {
  readonly #provider: DbProvider;
  readonly #options: PoolOptions;
  readonly #logger: Logger;
  readonly #hints: StateHints;
  readonly #driver: ConnectionDriver;
  readonly #control: ControlConnection;
  readonly #idle: PooledConnection[] = [];
  /**
   * Every live connection: idle, lent, or being cleaned up. Which are lent is a flag on each
   * (`lent`), not a Set: adding and deleting on every checkout makes V8 rebuild the Set's table,
   * and each old table links to the next, so a busy pool promoted a chain of them into the old
   * generation (measured: major GCs several times as often as mysql2's own pool).
   */
  readonly #all = new Set<PooledConnection>();
  /** Lent connections that died meanwhile: off the books, still held by their session until it gives them back. */
  readonly #lostWhileLent = new Set<PooledConnection>();
  /** Sessions waiting for a connection; each one's lease ends when it fails. */
  readonly #waiting = new WaitingQueue<PooledConnection>(() => {
    const error = this.#acquireTimeoutError();
    this.#endLease();
    return error;
  });
  /** Closes under way; they still count against `max` until the server has let go. */
  readonly #closing = new Set<Promise<void>>();
  /** Opens under way (for sessions that wait); suspend and close wait for them. */
  readonly #opens = new Set<Promise<void>>();
  #phase: Phase = { name: 'dormant' };
  #opening = 0;
  /** Give-backs under way: connections about to be free, which a waiting session can expect. */
  #returning = 0;
  /** acquire() calls under way, connections lent, and give-backs under way. */
  #leases = 0;
  #drained: (() => void) | undefined;
  #reapTimer: NodeJS.Timeout | undefined;
  /** When the reap timer fires (epoch ms). */
  #reapAt = Number.POSITIVE_INFINITY;

  /** `driver`: the mysql2 functions the pool uses; a unit test passes a fake. */
  constructor(provider: DbProvider, options: PoolOptions, hints: StateHints, logger: Logger, driver: ConnectionDriver = mysql2Driver) {
    this.#provider = provider;
    this.#options = options;
    this.#hints = hints;
    this.#logger = logger;
    this.#driver = driver;
    this.#control = new ControlConnection(() => provider.connect(), driver, logger);
  }

  get stats(): PoolStats {
    return {
      open: this.#all.size,
      idle: this.#idle.length,
      leased: this.#leases,
      opening: this.#opening,
      waiting: this.#waiting.length,
    };
  }

  /** Whether the pool still lends (close() may have gone past its bound while a checkout awaited). */
  #lending(): boolean {
    return this.#phase.name === 'active' || this.#phase.name === 'draining';
  }

  /** A session starts borrowing: the linger, if any, is over; a drain goes on. */
  #borrowing(): void {
    if (this.#phase.name === 'lingering') clearTimeout(this.#phase.timer);
    if (this.#phase.name !== 'draining') this.#phase = { name: 'active' };
  }

  /** Lends a live connection: an idle one (pinged if it sat long), a new one, or the next one released. */
  acquire(): Promise<PooledConnection> {
    return new Promise((resolve, reject) => {
      this.borrow(settling(resolve, reject));
    });
  }

  /**
   * acquire() for callers that call back on their own (the mysql2-compatible facade): no promise
   * between the pool and them. `done` runs synchronously when an idle connection is at hand.
   */
  borrow(done: BorrowCallback<PooledConnection>): void {
    // The common cases, without a single await. Under load, nothing is idle and the session
    // queues at once; a connection given back goes straight to it (#deliver).
    const phase = this.#phase.name;
    if (phase === 'active' || phase === 'lingering' || phase === 'draining') {
      const top = this.#idle.at(-1);
      if (top === undefined) {
        this.#borrowing();
        this.#leases++;
        this.#queue(Date.now() + this.#options.acquireTimeoutMs, done);
        return;
      }
      const now = Date.now();
      const idleFor = now - top.idleSince;
      if (top.alive && idleFor < this.#options.pingAfterIdleMs && idleFor < SETTLE_IDLE_MS && now < top.expiresAt) {
        this.#borrowing();
        this.#idle.pop();
        this.#leases++;
        this.#lend(top);
        done(null, top);
        return;
      }
    }
    // Every path below ends in `done`; a rejection here could only come before it ran.
    this.#borrowSlowly(done).catch(done);
  }

  async #borrowSlowly(done: BorrowCallback<PooledConnection>): Promise<void> {
    for (;;) {
      const phase = this.#phase;
      if (phase.name === 'closing' || phase.name === 'closed') {
        done(closedError());
        return;
      }
      if (phase.name !== 'suspending') break;
      // The linger ran out and everything is closing: wait, then open anew (never a dying tunnel).
      await phase.done;
    }
    // While draining too: Db refuses new sessions, so this is a session in flight.
    this.#borrowing();
    this.#leases++;
    // One deadline for the whole wait: pre-pings, queueing and opening a connection.
    const deadline = Date.now() + this.#options.acquireTimeoutMs;
    let conn: PooledConnection | undefined;
    try {
      conn = await this.#checkoutIdle(deadline);
    } catch (err) {
      this.#endLease();
      done(err);
      return;
    }
    if (conn === undefined) {
      this.#queue(deadline, done);
    } else if (this.#lending()) {
      this.#lend(conn);
      done(null, conn);
    } else {
      this.#retire(conn, true);
      this.#endLease();
      done(closedError());
    }
  }

  /** The session holds `conn` from now on. */
  #lend(conn: PooledConnection): void {
    conn.lent = true;
    conn.hold();
  }

  /** Queues a session (its lease counted already) and opens a connection for it when `max` allows. */
  #queue(deadline: number, done: BorrowCallback<PooledConnection>): void {
    this.#waiting.wait(deadline, done);
    this.#openForWaiters();
  }

  /**
   * Takes back a connection a session is done with: stops what still runs on it, cleans up its
   * session state, and lends it to the next session or keeps it idle; closes it when it cannot
   * be trusted. Resolves when done; undefined when done at once.
   */
  giveBack(conn: PooledConnection, reason: GiveUpReason = { kind: 'released' }): Promise<void> | undefined {
    // The common case, at once: nothing runs, nothing changed, not expired.
    if (conn.quiet && Date.now() < conn.expiresAt && conn.state.cleanup(this.#options.resetOnRelease, this.#options.database !== undefined).kind === 'none') {
      conn.lent = false;
      this.#deliver(conn);
      this.#endLease();
      return undefined;
    }
    return this.#giveBackSlowly(conn, reason);
  }

  async #giveBackSlowly(conn: PooledConnection, reason: GiveUpReason): Promise<void> {
    // Only a connection with nothing left to stop on it is on its way to a waiting session soon
    // (a ROLLBACK or a reset away); one that must be killed first may take seconds.
    const soon = conn.quiet;
    if (soon) this.#returning++;
    let returning = soon;
    const arrived = (): void => {
      if (returning) this.#returning--;
      returning = false;
    };
    try {
      let reusable = conn.alive && (await conn.quiesce(reason));
      if (reusable && Date.now() >= conn.expiresAt) reusable = false;
      if (reusable) reusable = await cleanUp(conn, this.#options, this.#logger);
      conn.lent = false;
      this.#lostWhileLent.delete(conn);
      arrived();
      if (reusable) this.#deliver(conn);
      else this.#retire(conn, !conn.alive);
    } finally {
      arrived();
      this.#endLease();
    }
  }

  /**
   * Stops lending, waits up to `timeoutMs` for sessions to give their connections back, then
   * cancels on the server what still runs and closes everything, the provider's resources last.
   * Idempotent: later calls return the same promise.
   */
  close(timeoutMs: number): Promise<void> {
    const phase = this.#phase;
    if (phase.name === 'draining' || phase.name === 'closing' || phase.name === 'closed') return phase.done;
    if (phase.name === 'lingering') clearTimeout(phase.timer);
    // The phase changes first: nothing may start lending between here and the shutdown.
    const done = Promise.resolve().then(() => this.#shutdown(phase, timeoutMs));
    this.#phase = { name: 'draining', done };
    return done;
  }

  /** An idle connection fit to lend (pinged when it sat long), or undefined when none is left. */
  async #checkoutIdle(deadline: number): Promise<PooledConnection | undefined> {
    for (let conn = this.#idle.pop(); conn !== undefined; conn = this.#idle.pop()) {
      if (!conn.alive) continue;
      if (Date.now() - conn.idleSince >= SETTLE_IDLE_MS) {
        // After a freeze (a thawed Lambda, a laptop waking up) the server's close of this
        // connection may sit unread beside the request that asks for it: one turn of the event
        // loop reads it, so the statement never goes out on a dead connection (it could not be
        // retried then, having been sent).
        const stillAlive = await afterPendingInput(conn);
        if (!stillAlive) continue;
      }
      const now = Date.now();
      if (now >= conn.expiresAt) {
        this.#retire(conn, false);
        continue;
      }
      if (now - conn.idleSince < this.#options.pingAfterIdleMs) return conn;
      if (now >= deadline) {
        // Out of time before even pinging it: keep it for the next session.
        this.#deliver(conn);
        throw this.#acquireTimeoutError();
      }
      if (await this.#ping(conn, Math.min(this.#options.pingTimeoutMs, deadline - now))) return conn;
    }
    return undefined;
  }

  async #ping(conn: PooledConnection, timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    conn.hold();
    const alive = await Promise.race([
      new Promise<boolean>((resolve) => {
        conn.connection.ping((err) => {
          resolve(err == null);
        });
      }),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(resolve, timeoutMs, false);
      }),
    ]);
    clearTimeout(timer);
    if (!alive) {
      this.#logger.debug({ threadId: conn.threadId }, 'pre-ping failed; replacing the connection');
      this.#retire(conn, true);
    }
    return alive;
  }

  /**
   * Opens connections for sessions that wait, as far as `max` allows. A connection being given
   * back counts as on its way: an ORM that releases and at once borrows again gets it back
   * instead of a new one.
   */
  #openForWaiters(): void {
    while (this.#waiting.length > this.#opening + this.#returning && this.#capacityUsed() < this.#options.max && this.#lending()) {
      this.#opening++;
      const opening: Promise<void> = this.#open()
        .then(
          (conn) => {
            this.#opening--;
            this.#deliver(conn);
          },
          (err: unknown) => {
            this.#opening--;
            // The session that waits longest learns why; the others get their own attempt.
            if (this.#waiting.failFirst(err)) this.#endLease();
            this.#openForWaiters();
          },
        )
        .finally(() => this.#opens.delete(opening));
      this.#opens.add(opening);
    }
  }

  async #open(): Promise<PooledConnection> {
    const provided = await this.#provider.connect();
    const conn = new PooledConnection(provided, {
      driver: this.#driver,
      hints: this.#hints,
      settleTimeoutMs: this.#options.settleTimeoutMs,
      cancel: (target) => this.#control.kill(target.threadId, this.#options.cancelTimeoutMs),
      lost: (dead) => {
        // A lent connection is closed when its session gives it back; any other at once.
        if (dead.lent) {
          this.#lostWhileLent.add(dead);
          this.#forget(dead);
        } else {
          this.#retire(dead, true);
        }
      },
    });
    this.#all.add(conn);
    try {
      await setUpNewConnection(conn, this.#options);
    } catch (err) {
      this.#retire(conn, true);
      throw isDbSwitchError(err) ? err : new DbSwitchError('ECONNECT', `setting up a new connection failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    return conn;
  }

  /** A connection is free: the longest waiting session gets it, or it goes idle. */
  #deliver(conn: PooledConnection): void {
    if (!conn.alive) return;
    const phase = this.#phase.name;
    if (phase === 'closing' || phase === 'closed' || phase === 'suspending' || phase === 'dormant') {
      // Opened for a session that gave up, after the pool let everything go: not kept.
      this.#retire(conn, false);
      return;
    }
    if (this.#waiting.length > 0) {
      this.#lend(conn);
      this.#waiting.serve(conn);
      return;
    }
    if (phase === 'draining') {
      // Nobody waits for it, and only the sessions in flight may still ask: not kept.
      this.#retire(conn, false);
      return;
    }
    conn.letGo();
    conn.idleSince = Date.now();
    this.#idle.push(conn);
    this.#scheduleReap();
  }

  /** Says what the wait was spent on: sessions holding every connection, or a server slow to answer. */
  #acquireTimeoutError(): DbSwitchError {
    const { max, acquireTimeoutMs } = this.#options;
    const lent = [...this.#all].filter((conn) => conn.lent && conn.alive).length;
    const facts = [`${lent} of ${max} connections are lent to sessions`];
    if (this.#opening > 0) facts.push(`a new connection was still being opened (that may take up to ${settingLabel('db.connectTimeoutMs')})`);
    if (this.#closing.size > 0) facts.push(`${this.#closing.size} still closing`);
    const advice =
      lent >= max
        ? `Release sessions sooner, or raise ${settingLabel('pool.max')} or ${settingLabel('pool.acquireTimeoutMs')}.`
        : `Check that the database answers (dbswitch check), or raise ${settingLabel('pool.acquireTimeoutMs')}.`;
    return new DbSwitchError(
      'EACQUIRE_TIMEOUT',
      `no database connection within ${acquireTimeoutMs} ms (${settingLabel('pool.acquireTimeoutMs')}): ${facts.join('; ')}. ${advice}`,
    );
  }

  /** Connections counted against `max`: live ones, ones being opened, ones still closing. */
  #capacityUsed(): number {
    return this.#all.size + this.#opening + this.#closing.size;
  }

  #retire(conn: PooledConnection, force: boolean): void {
    // Counted as closing before it leaves the books: its slot frees only once the server let go.
    const closing = conn.close(force).finally(() => {
      this.#closing.delete(closing);
      this.#openForWaiters();
    });
    this.#closing.add(closing);
    this.#forget(conn);
  }

  /** Takes a connection off the books; called on retire and when it dies on its own. */
  #forget(conn: PooledConnection): void {
    if (!this.#all.delete(conn)) return;
    const index = this.#idle.indexOf(conn);
    if (index !== -1) this.#idle.splice(index, 1);
    if (!conn.lent) conn.letGo();
    this.#openForWaiters();
  }

  #endLease(): void {
    this.#leases--;
    if (this.#leases > 0) return;
    if (this.#phase.name === 'draining') {
      this.#drained?.();
    } else if (this.#phase.name === 'active') {
      // Unref'd like the idle sockets: a script that released its last session exits now; a
      // process that keeps running gets its connections (and tunnel) closed after lingerMs.
      const timer = setTimeout(() => {
        this.#suspend();
      }, this.#options.lingerMs);
      timer.unref();
      this.#phase = { name: 'lingering', timer };
    }
  }

  #suspend(): void {
    const work = (async (): Promise<void> => {
      this.#stopReaping();
      for (const conn of this.#idle.slice()) this.#retire(conn, false);
      // A connection still being opened (for a session that gave up) is closed when it arrives.
      await Promise.all(this.#opens);
      await Promise.all(this.#closing);
      await this.#control.close();
      await this.#provider.close().catch((err: unknown) => {
        this.#logger.warn({ err: String(err) }, 'closing the provider after the linger failed');
      });
    })();
    const done: Promise<void> = work.then(() => {
      if (this.#phase.name === 'suspending' && this.#phase.done === done) this.#phase = { name: 'dormant' };
    });
    this.#phase = { name: 'suspending', done };
  }

  async #shutdown(previous: Phase, timeoutMs: number): Promise<void> {
    if (previous.name === 'suspending') await previous.done;
    this.#stopReaping();
    for (const conn of this.#idle.slice()) this.#retire(conn, false);
    // The sessions in flight go on, the ones waiting for a connection included, up to the bound.
    if (this.#leases > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
        // Ref'd: close() is awaited, and the wait is bounded.
        timer = setTimeout(resolve, timeoutMs);
      });
      clearTimeout(timer);
    }
    this.#phase = { name: 'closing', done: this.#phase.name === 'draining' ? this.#phase.done : Promise.resolve() };
    for (let failed = this.#waiting.failAll(closedError()); failed > 0; failed--) this.#endLease();
    const leased = [...this.#all].filter((conn) => conn.lent).concat([...this.#lostWhileLent]);
    if (leased.length > 0) {
      this.#logger.warn({ leased: leased.length }, `closing with sessions still in flight after ${timeoutMs} ms; cancelling their statements`);
      await Promise.all(
        leased.map(async (conn) => {
          await conn.quiesce({ kind: 'closed' });
          this.#retire(conn, true);
        }),
      );
    }
    await Promise.all(this.#opens);
    for (const conn of [...this.#all]) this.#retire(conn, true);
    await Promise.all(this.#closing);
    await this.#control.close(true);
    await this.#provider.close().catch((err: unknown) => {
      this.#logger.warn({ err: String(err) }, 'closing the provider failed');
    });
    this.#phase = { name: 'closed', done: Promise.resolve() };
  }

  /** Arms the reap timer for the idle connection due first; moves it earlier when needed. */
  #scheduleReap(): void {
    if (this.#idle.length === 0) return;
    const next = Math.min(...this.#idle.map((conn) => this.#retireAt(conn)));
    if (!Number.isFinite(next) || (this.#reapTimer !== undefined && next >= this.#reapAt)) return;
    this.#stopReaping();
    this.#reapAt = next;
    this.#reapTimer = setTimeout(() => {
      this.#reapTimer = undefined;
      this.#reapAt = Number.POSITIVE_INFINITY;
      const now = Date.now();
      for (const conn of this.#idle.slice()) {
        if (now >= this.#retireAt(conn)) this.#retire(conn, false);
      }
      this.#scheduleReap();
    }, Math.max(0, next - Date.now()) + 5);
    this.#reapTimer.unref();
  }

  #stopReaping(): void {
    clearTimeout(this.#reapTimer);
    this.#reapTimer = undefined;
    this.#reapAt = Number.POSITIVE_INFINITY;
  }

  #retireAt(conn: PooledConnection): number {
    const idleDeadline = this.#options.idleTimeoutMs > 0 ? conn.idleSince + this.#options.idleTimeoutMs : Number.POSITIVE_INFINITY;
    return Math.min(idleDeadline, conn.expiresAt);
  }
}

/** A connection idle this long may have been closed by the server while the process was frozen. */
const SETTLE_IDLE_MS = 1000;

function closedError(): DbSwitchError {
  return new DbSwitchError('ECLOSED', 'this Db has been closed; create a new one with createDb()');
}

/** Whether the connection is still alive once the input already waiting on its socket is read. */
async function afterPendingInput(conn: PooledConnection): Promise<boolean> {
  await new Promise<void>((resolve) => {
    setImmediate(resolve);
  });
  return conn.alive;
}
