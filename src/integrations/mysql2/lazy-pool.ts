import { EventEmitter } from 'node:events';
import type { Pool, PoolConnection } from 'mysql2';
import type { Pool as PromisePool } from 'mysql2/promise';
import { createQueryCommand, escape, escapeId, format, isFatal, promisePool, type QueryCommand } from '../../driver/mysql2.js';
import { DbSwitchError } from '../../errors.js';

type Callback = (err: unknown, ...results: unknown[]) => void;

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
    const [args, done] = typeof values === 'function' ? [undefined, values as Callback] : [values, callback];
    const command = createQueryCommand(sql, args, done, this.config.connectionConfig);
    this.getConnection((err, connection) => {
      if (err !== null || connection === undefined) {
        fail(command, err);
        return;
      }
      const giveBack = givingBack(connection);
      command.once('end', () => {
        giveBack(undefined);
      });
      // mysql2 ends no command whose connection was lost: its callback gets the fatal error.
      const onResult = command.onResult;
      if (onResult !== undefined) {
        command.onResult = (error, ...results) => {
          try {
            onResult(error, ...results);
          } finally {
            if (isFatal(error)) giveBack(error);
          }
        };
      }
      connection.query(command as never);
    });
    return command;
  }

  /** Runs one prepared statement on a connection of its own. */
  execute(sql: unknown, values?: unknown, callback?: Callback): void {
    const [args, done] = typeof values === 'function' ? [undefined, values as Callback] : [values, callback];
    this.getConnection((err, connection) => {
      if (err !== null || connection === undefined) {
        done?.(err);
        return;
      }
      const giveBack = givingBack(connection);
      const finish: Callback = (error, ...results) => {
        try {
          done?.(error, ...results);
        } finally {
          giveBack(error);
        }
      };
      (connection.execute as (sql: unknown, values: unknown, cb: Callback) => void)(sql, args ?? [], finish);
    });
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

/**
 * Gives a connection back once: destroyed after a fatal error; else released after mysql2 is done
 * with the command (it still holds it as current while its callback and 'end' run, and the pool
 * would take it for busy and kill the statement).
 */
function givingBack(connection: PoolConnection): (error: unknown) => void {
  let given = false;
  return (error) => {
    if (given) return;
    given = true;
    if (isFatal(error)) connection.destroy();
    else
      process.nextTick(() => {
        connection.release();
      });
  };
}

function fail(command: QueryCommand, err: unknown): void {
  if (command.onResult !== undefined) command.onResult(err);
  else command.emit('error', err);
}
