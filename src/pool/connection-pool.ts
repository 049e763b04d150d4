import { destroyConnection } from '../driver/mysql2.js';
import { DbSwitchError } from '../errors.js';
import type { Logger } from '../logging/create-logger.js';
import { PooledConnection, type OpenedConnection } from './pooled-connection.js';
import { lifetimeFor } from './lifetime.js';

/** Pool settings; see `pool.*` in the configuration for their meaning and defaults. */
export interface PoolOptions {
  readonly max: number;
  readonly acquireTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxLifetimeMs: number;
  readonly pingAfterIdleMs: number;
  readonly lingerMs: number;
  /** Bound on a pre-ping, after which the connection counts as dead. */
  readonly pingTimeoutMs: number;
}

/** What the pool asks of the provider that owns it. */
export interface PoolSource {
  /** Opens one new physical connection, authenticated. */
  open(): Promise<OpenedConnection>;
  /** The last lease ended `lingerMs` ago and the idle connections are closed: free the rest (a tunnel). */
  linger?(): Promise<void>;
}

/** Counts for diagnostics and tests. */
export interface PoolStats {
  readonly open: number;
  readonly idle: number;
  readonly leased: number;
  readonly opening: number;
  readonly waiting: number;
}

interface Waiter {
  readonly resolve: (conn: PooledConnection) => void;
  readonly reject: (err: unknown) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * A pool of mysql2 connections with the hygiene mysql2's own pool lacks: a ping before handing
 * out a connection that sat idle, a maximum lifetime kept under the server's `wait_timeout`,
 * idle connections really closed, and idle sockets that do not keep the process alive.
 *
 * Idle connections form a stack: the most recently used goes out first, so the rest age and get
 * reaped when load drops.
 */
export class ConnectionPool {
  readonly #options: PoolOptions;
  readonly #source: PoolSource;
  readonly #logger: Logger;
  readonly #idle: PooledConnection[] = [];
  readonly #all = new Set<PooledConnection>();
  readonly #waiters: Waiter[] = [];
  /** Background closes (reaped, expired) that close() must wait for. */
  readonly #closing = new Set<Promise<void>>();
  #opening = 0;
  /** acquire() calls under way plus connections handed out. */
  #leased = 0;
  #reapTimer: NodeJS.Timeout | undefined;
  #lingerTimer: NodeJS.Timeout | undefined;
  #closed: Promise<void> | undefined;
  #drained: (() => void) | undefined;

  constructor(options: PoolOptions, source: PoolSource, logger: Logger) {
    this.#options = options;
    this.#source = source;
    this.#logger = logger;
  }

  get stats(): PoolStats {
    return {
      open: this.#all.size,
      idle: this.#idle.length,
      leased: this.#leased,
      opening: this.#opening,
      waiting: this.#waiters.length,
    };
  }

  /** Hands out a live connection: an idle one (pinged if it sat long), a new one, or the next released. */
  async acquire(): Promise<PooledConnection> {
    if (this.#closed !== undefined) throw closedError();
    this.#leased++;
    this.#cancelLinger();
    try {
      const conn = await this.#checkout();
      conn.hold();
      return conn;
    } catch (err) {
      this.#endLease();
      throw err;
    }
  }

  /** Takes back a healthy connection whose session left it clean. */
  release(conn: PooledConnection): void {
    conn.idleSince = Date.now();
    if (this.#closed !== undefined || !conn.alive || conn.idleSince >= conn.expiresAt) {
      this.#retire(conn, false);
    } else {
      const waiter = this.#waiters.shift();
      if (waiter !== undefined) {
        clearTimeout(waiter.timer);
        waiter.resolve(conn);
      } else {
        conn.letGo();
        this.#idle.push(conn);
        this.#scheduleReap();
      }
    }
    this.#endLease();
  }

  /** Takes back a connection that failed or whose state is unknown, and closes it at once. */
  destroy(conn: PooledConnection): void {
    this.#retire(conn, true);
    this.#endLease();
  }

  /**
   * Stops handing out connections, waits up to `timeoutMs` for leased ones to come back, then
   * closes everything. Idempotent: later calls return the same promise.
   */
  close(timeoutMs: number): Promise<void> {
    this.#closed ??= this.#shutdown(timeoutMs);
    return this.#closed;
  }

  async #checkout(): Promise<PooledConnection> {
    for (let conn = this.#idle.pop(); conn !== undefined; conn = this.#idle.pop()) {
      if (!conn.alive) continue;
      const now = Date.now();
      if (now >= conn.expiresAt) {
        this.#retire(conn, false);
        continue;
      }
      if (now - conn.idleSince < this.#options.pingAfterIdleMs || (await this.#ping(conn))) return conn;
    }
    if (this.#all.size + this.#opening < this.#options.max) return this.#open();
    return this.#wait();
  }

  async #ping(conn: PooledConnection): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        conn.promise.ping(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => { reject(new Error('ping timed out')); }, this.#options.pingTimeoutMs);
        }),
      ]);
      return true;
    } catch (err) {
      this.#logger.debug({ err: String(err) }, 'pre-ping failed; replacing the connection');
      this.#retire(conn, true);
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async #open(): Promise<PooledConnection> {
    this.#opening++;
    try {
      const opened = await this.#source.open();
      let lifetimeMs: number;
      try {
        lifetimeMs = await lifetimeFor(opened.connection, this.#options.maxLifetimeMs);
      } catch (err) {
        destroyConnection(opened.connection);
        opened.dispose?.();
        throw err;
      }
      const conn = new PooledConnection(opened, lifetimeMs, (dead) => { this.#forget(dead); });
      this.#all.add(conn);
      if (this.#closed !== undefined) {
        this.#retire(conn, true);
        throw closedError();
      }
      return conn;
    } finally {
      this.#opening--;
    }
  }

  #wait(): Promise<PooledConnection> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.#waiters.indexOf(waiter);
        if (index !== -1) this.#waiters.splice(index, 1);
        reject(
          new DbSwitchError(
            'EACQUIRE_TIMEOUT',
            `no database connection became free within ${this.#options.acquireTimeoutMs} ms: all ${this.#options.max} ` +
              'are in use. Release sessions sooner, or raise pool.max (DB_POOL_MAX) or pool.acquireTimeoutMs (DB_POOL_ACQUIRE_TIMEOUT_MS).',
          ),
        );
      }, this.#options.acquireTimeoutMs);
      const waiter: Waiter = { resolve, reject, timer };
      this.#waiters.push(waiter);
    });
  }

  /** A connection left the pool for good: if someone waits and there is room, open one for them. */
  #serveWaiters(): void {
    while (this.#waiters.length > 0 && this.#closed === undefined && this.#all.size + this.#opening < this.#options.max) {
      const waiter = this.#waiters.shift();
      if (waiter === undefined) return;
      clearTimeout(waiter.timer);
      this.#open().then(waiter.resolve, waiter.reject);
    }
  }

  #retire(conn: PooledConnection, force: boolean): void {
    this.#forget(conn);
    const closing = conn.close(force).finally(() => this.#closing.delete(closing));
    this.#closing.add(closing);
  }

  /** Removes a connection from the books; called on retire and when the server closes it. */
  #forget(conn: PooledConnection): void {
    if (!this.#all.delete(conn)) return;
    const index = this.#idle.indexOf(conn);
    if (index !== -1) this.#idle.splice(index, 1);
    this.#serveWaiters();
  }

  #endLease(): void {
    this.#leased--;
    if (this.#leased > 0) return;
    if (this.#closed !== undefined) {
      this.#drained?.();
    } else if (this.#lingerTimer === undefined) {
      // Unref'd like the idle sockets: a script that released its last session exits now;
      // a process that keeps running gets its connections (and tunnel) closed after lingerMs.
      this.#lingerTimer = setTimeout(() => {
        this.#lingerTimer = undefined;
        void this.#endLinger();
      }, this.#options.lingerMs);
      this.#lingerTimer.unref();
    }
  }

  async #endLinger(): Promise<void> {
    if (!this.#isQuiet()) return;
    for (const conn of this.#idle.slice()) this.#retire(conn, false);
    await Promise.all(this.#closing);
    // A session may have started, or close() been called, while the connections were closing.
    if (this.#isQuiet()) {
      await this.#source.linger?.().catch((err: unknown) => {
        this.#logger.warn({ err: String(err) }, 'releasing resources after linger failed');
      });
    }
  }

  /** Open, and nothing leased or being acquired. */
  #isQuiet(): boolean {
    return this.#leased === 0 && this.#closed === undefined;
  }

  #cancelLinger(): void {
    clearTimeout(this.#lingerTimer);
    this.#lingerTimer = undefined;
  }

  #scheduleReap(): void {
    if (this.#reapTimer !== undefined || this.#idle.length === 0) return;
    const next = Math.min(...this.#idle.map((conn) => this.#retireAt(conn)));
    if (!Number.isFinite(next)) return;
    this.#reapTimer = setTimeout(() => {
      this.#reapTimer = undefined;
      const now = Date.now();
      for (const conn of this.#idle.slice()) {
        if (now >= this.#retireAt(conn)) this.#retire(conn, false);
      }
      this.#scheduleReap();
    }, Math.max(0, next - Date.now()) + 5);
    this.#reapTimer.unref();
  }

  #retireAt(conn: PooledConnection): number {
    const idleDeadline = this.#options.idleTimeoutMs > 0 ? conn.idleSince + this.#options.idleTimeoutMs : Number.POSITIVE_INFINITY;
    return Math.min(idleDeadline, conn.expiresAt);
  }

  async #shutdown(timeoutMs: number): Promise<void> {
    this.#cancelLinger();
    clearTimeout(this.#reapTimer);
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(closedError());
    }
    for (const conn of this.#idle.slice()) this.#retire(conn, false);
    if (this.#leased > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
        timer = setTimeout(resolve, timeoutMs);
      });
      clearTimeout(timer);
      if (this.#leased > 0) {
        this.#logger.warn({ leased: this.#leased }, `closing with sessions still in flight after ${timeoutMs} ms`);
      }
    }
    for (const conn of [...this.#all]) this.#retire(conn, true);
    await Promise.all(this.#closing);
  }
}

function closedError(): DbSwitchError {
  return new DbSwitchError('ECLOSED', 'this Db has been closed; create a new one with createDb()');
}
