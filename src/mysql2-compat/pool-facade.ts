import { EventEmitter } from 'node:events';
import type { Pool, PoolConnection } from 'mysql2';
import type { Pool as PromisePool } from 'mysql2/promise';
import type { BorrowCallback, GiveUpReason } from '../db-session.js';
import { escape, escapeId, format, promisePool } from '../driver/mysql2.js';
import { DbSwitchError } from '../errors.js';
import { ConnectionFacade, queryWithDefaults, type LendableConnection, type QueryDefaults } from './connection-facade.js';
import { executeOnPool, queryOnPool, type Callback } from './pool-statements.js';

/** Where the facade borrows connections: the Db's pool. */
export interface ConnectionLending<C extends LendableConnection> {
  /** Lends a connection to `done`, which may run synchronously and must not throw. */
  borrow(done: BorrowCallback<C>): void;
  /** Resolves once the connection is taken care of; undefined when that was done at once. */
  giveBack(conn: C, reason?: GiveUpReason): Promise<void> | undefined;
}

/** How a facade is made. */
export interface PoolFacadeOptions {
  /** What `pool.config.connectionLimit` says (pool.max). */
  readonly connectionLimit: number;
  /** Options every query carries (timezone, typeCast, dateStrings...: an ORM's own). */
  readonly queryDefaults?: QueryDefaults;
  /** Called by end(), after the facade stopped lending (dbswitch/mysql2 closes its own Db). */
  readonly onEnd?: () => Promise<void>;
}

/**
 * A mysql2-compatible pool (callback API, and `.promise()` for the promise one) whose
 * connections are lent by dbswitch's pool: pre-ping, lifetime, reaping, session isolation,
 * cancellation, IAM tokens and SSH channels apply to every ORM built on it. `end()` ends this
 * facade only; the Db stays open until `db.close()`.
 */
export class PoolFacade<C extends LendableConnection> extends EventEmitter {
  readonly #lending: ConnectionLending<C>;
  readonly #options: PoolFacadeOptions;
  /** One facade object per physical connection and reset epoch. */
  readonly #facades = new WeakMap<C, { readonly epoch: object; readonly facade: ConnectionFacade }>();
  /** Releases under way, for end() to wait on. */
  readonly #returning = new Set<Promise<void>>();
  #ended: Promise<void> | undefined;
  readonly config: { readonly connectionLimit: number; readonly connectionConfig: Readonly<Record<string, unknown>> };

  constructor(lending: ConnectionLending<C>, options: PoolFacadeOptions) {
    super();
    this.#lending = lending;
    this.#options = options;
    this.config = { connectionLimit: options.connectionLimit, connectionConfig: { ...options.queryDefaults } };
  }

  /** Lends a connection (mysql2's callback signature). */
  getConnection(callback: (err: unknown, connection?: PoolConnection) => void): void {
    if (this.#ended !== undefined) {
      deliver(callback, new DbSwitchError('ECLOSED', 'getConnection() after end() on this pool; db.pool() gives a new one while the Db is open'));
      return;
    }
    // A callback all the way from the pool: under load every checkout waits for a release, and
    // a promise in between would cost a microtask and two allocations per query.
    this.#lending.borrow((err, conn) => {
      if (conn === undefined) {
        deliver(callback, err);
        return;
      }
      const known = this.#facades.get(conn);
      const fresh = known?.epoch !== conn.epoch;
      // Lent on the next tick, not here: this may run inside the previous holder's release(),
      // and the same object must not work for that holder's later calls (a second release(),
      // a destroy() in a catch) as if they were the new borrower's.
      process.nextTick(handOver, this, callback, fresh ? this.#newFacade(conn) : known.facade, fresh);
    });
  }

  /** Runs one statement on a connection of its own, released afterwards; the command is returned at once. */
  query(sql: unknown, values?: unknown, callback?: Callback): unknown {
    return queryOnPool((done) => {
      this.getConnection(done);
    }, queryWithDefaults(sql, this.#options.queryDefaults), values, callback, this.config.connectionConfig);
  }

  /** Runs one prepared statement on a connection of its own, released afterwards. */
  execute(sql: unknown, values?: unknown, callback?: Callback): void {
    executeOnPool((done) => {
      this.getConnection(done);
    }, sql, values, callback);
  }

  /** Stops lending; waits for connections given back meanwhile. The Db stays open. */
  end(callback?: (err?: unknown) => void): void {
    this.#ended ??= (async () => {
      await Promise.all(this.#returning);
      await this.#options.onEnd?.();
    })();
    this.#ended.then(
      () => {
        if (callback !== undefined) deliver(callback, null);
      },
      (err: unknown) => {
        if (callback !== undefined) deliver(callback, err);
      },
    );
  }

  /** mysql2's promise pool over this one (what Drizzle and `await pool.query()` users take). */
  promise(): PromisePool {
    // The facade is a faithful subset of mysql2's Pool: the part its promise pool calls.
    return promisePool(this as unknown as Pool);
  }

  escape(value: unknown): string {
    return escape(value as never);
  }

  escapeId(value: string): string {
    return escapeId(value);
  }

  format(sql: string, values?: unknown): string {
    return format(sql, values as never);
  }

  /** Whether end() was called (mysql2 pools expose `_closed`; PromisePool's asyncDispose reads it). */
  get _closed(): boolean {
    return this.#ended !== undefined;
  }

  /** The object for a new connection, or one whose session state was reset: to the ORM, a new connection. */
  #newFacade(conn: C): ConnectionFacade {
    const facade: ConnectionFacade = new ConnectionFacade(conn.connection, this.#options.queryDefaults, {
      release: () => {
        this.#giveBack(conn);
        this.emit('release', facade.object);
      },
      destroy: () => {
        conn.destroy('the application destroyed it');
        this.#giveBack(conn);
      },
      lost: () => {
        conn.destroy('the connection broke under a statement of the ORM');
      },
    });
    this.#facades.set(conn, { epoch: conn.epoch, facade });
    return facade;
  }

  #giveBack(conn: C): void {
    const returning = this.#lending.giveBack(conn);
    if (returning === undefined) return;
    const tracked = returning.finally(() => this.#returning.delete(tracked));
    this.#returning.add(tracked);
  }
}

/**
 * What mysql2's pool does on the next tick once a connection is lent: 'connection' for a new
 * one (its listeners may run statements on it), 'acquire', then the caller's callback, outside
 * the pool's own work (a listener or callback that throws is the caller's exception, never a
 * half-done give-back).
 */
function handOver(pool: EventEmitter, callback: (err: null, connection: PoolConnection) => void, facade: ConnectionFacade, fresh: boolean): void {
  facade.lend();
  if (fresh) pool.emit('connection', facade.object);
  pool.emit('acquire', facade.object);
  callback(null, facade.object);
}

/** Calls back outside any promise chain, as mysql2 does: an exception in it is the caller's. */
function deliver<A extends unknown[]>(callback: (...args: A) => void, ...args: A): void {
  process.nextTick(callback, ...args);
}
