import { EventEmitter } from 'node:events';
import type { Pool, PoolConnection } from 'mysql2';
import type { Pool as PromisePool } from 'mysql2/promise';
import { escape, escapeId, format, promisePool } from '../../driver/mysql2.js';
import { executeOnPool, queryOnPool, type Callback } from '../../mysql2-compat/pool-statements.js';
import { DbSwitchError } from '../../errors.js';

/** Where a lazy pool's connections come from, and what its end() gives back. */
export interface PoolSource {
  /** The pool to lend from (the Db's `db.pool()`), made on first need. */
  pool(): Promise<Pool>;
  /** Called once by end(), after the last connection came back. */
  end(): Promise<void>;
}

/**
 * mysql2's Pool as createPool returns it — at once — lending the connections of a pool made
 * later (a Db's, whose container and provider are made asynchronously). A connection is the
 * underlying pool's own object, with nothing wrapped around it; its release() gives it back to
 * the Db's pool.
 */
export class LazyPool extends EventEmitter {
  readonly #source: PoolSource;
  #pool: Pool | undefined;
  #ended: Promise<void> | undefined;
  readonly config: { readonly connectionLimit: number; readonly connectionConfig: Readonly<Record<string, unknown>> };

  constructor(source: PoolSource, config: { connectionLimit: number; connectionConfig: Readonly<Record<string, unknown>> }) {
    super();
    this.#source = source;
    this.config = config;
  }

  /** Lends a connection (mysql2's callback signature). */
  getConnection(callback: (err: unknown, connection?: PoolConnection) => void): void {
    if (this.#ended !== undefined) {
      process.nextTick(callback, new DbSwitchError('ECLOSED', 'getConnection() after end() on this pool'));
      return;
    }
    const lend = (pool: Pool): void => {
      pool.getConnection(callback);
    };
    if (this.#pool !== undefined) {
      lend(this.#pool);
      return;
    }
    this.#source.pool().then(
      (pool) => {
        this.#pool = pool;
        lend(pool);
      },
      (err: unknown) => {
        process.nextTick(callback, err);
      },
    );
  }

  /** Runs one statement on a connection of its own; the command is returned at once (`.stream()`). */
  query(sql: unknown, values?: unknown, callback?: Callback): unknown {
    return queryOnPool((done) => {
      this.getConnection(done);
    }, sql, values, callback, this.config.connectionConfig);
  }

  /** Runs one prepared statement on a connection of its own. */
  execute(sql: unknown, values?: unknown, callback?: Callback): void {
    executeOnPool((done) => {
      this.getConnection(done);
    }, sql, values, callback);
  }

  /**
   * Stops lending and ends what the pool opened: a Db of dbswitch/mysql2's own is closed (it
   * waits for connections still lent, up to DB_POOL_CLOSE_TIMEOUT_MS).
   */
  end(callback?: (err?: unknown) => void): void {
    this.#ended ??= this.#source.end();
    this.#ended.then(
      () => {
        if (callback !== undefined) process.nextTick(callback, null);
      },
      (err: unknown) => {
        if (callback !== undefined) process.nextTick(callback, err);
      },
    );
  }

  /** mysql2's own promise pool over this one. */
  promise(): PromisePool {
    // A faithful subset of mysql2's Pool: the part its promise pool calls.
    return promisePool(this as unknown as Pool);
  }

  escape(value: unknown): string {
    return escape(value as never, this.#stringifyObjects, this.#timezone);
  }

  escapeId(value: string): string {
    return escapeId(value);
  }

  format(sql: string, values?: unknown): string {
    return format(sql, values as never, this.#stringifyObjects, this.#timezone);
  }

  get #stringifyObjects(): boolean {
    return this.config.connectionConfig['stringifyObjects'] === true;
  }

  get #timezone(): string {
    const timezone = this.config.connectionConfig['timezone'];
    return typeof timezone === 'string' ? timezone : 'local';
  }

  /** Whether end() was called (PromisePool's asyncDispose reads it). */
  get _closed(): boolean {
    return this.#ended !== undefined;
  }
}
