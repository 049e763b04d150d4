import { neverSent, runStatement, type FieldPacket, type PromiseConnection, type QueryOptions, type QueryResult } from './driver/mysql2.js';
import { DbSwitchError } from './errors.js';
import type { Logger } from './logging/create-logger.js';
import { redactSql } from './logging/redact-sql.js';
import { borrowingConnection } from './driver/borrowing-connection.js';
import type { PooledConnection } from './pool/pooled-connection.js';

/** What a session needs from the provider that lends it connections. */
export interface SessionHost {
  acquire(): Promise<PooledConnection>;
  /** Takes back a connection the session left clean. */
  release(conn: PooledConnection): void;
  /** Takes back a connection that must not be reused. */
  destroy(conn: PooledConnection): void;
  /** Turns a connection-level failure into the provider's error (ECONNECTION_LOST, ETUNNEL). */
  lostError(err: unknown, conn: PooledConnection | undefined): DbSwitchError;
  readonly logger: Logger;
  readonly logQueries: boolean;
  readonly resetOnRelease: boolean;
}

// Server status flags from the OK packets (MySQL and MariaDB protocol).
const SERVER_STATUS_IN_TRANS = 0x0001;
const SERVER_STATUS_AUTOCOMMIT = 0x0002;

/** What a session must do to a connection before it goes back to the pool. */
const enum Cleanup {
  None,
  /** A transaction may be open. */
  Rollback,
  /** Session state is unknown or changed (autocommit off, raw access): COM_RESET_CONNECTION. */
  Reset,
}

/**
 * One unit of work on one connection, borrowed lazily on the first statement and given back
 * exactly once: a transaction left open is rolled back, a connection that failed mid-statement is
 * destroyed instead of pooled.
 *
 * @example
 * await db.withSession(async (s) => {
 *   const [rows] = await s.query('SELECT ? AS x', [1]);
 * });
 */
export class DbSession implements AsyncDisposable {
  readonly #host: SessionHost;
  #conn: PooledConnection | undefined;
  #borrowing: Promise<PooledConnection> | undefined;
  #released: Promise<void> | undefined;
  #cleanup = Cleanup.None;
  #inTransaction = false;
  #broken = false;
  #inFlight = 0;
  #savepoints = 0;
  /** Statements sent on the current connection. */
  #statements = 0;

  constructor(host: SessionHost) {
    this.#host = host;
  }

  /** True once release() has been called. */
  get released(): boolean {
    return this.#released !== undefined;
  }

  /**
   * Runs a statement, as mysql2's promise `query` does: values are escaped into `?`
   * placeholders client-side.
   */
  query<T extends QueryResult = QueryResult>(sql: string | QueryOptions, values?: unknown): Promise<[T, FieldPacket[]]> {
    return this.#run('query', sql, values);
  }

  /** Runs a prepared statement, as mysql2's promise `execute` does (cached per connection). */
  execute<T extends QueryResult = QueryResult>(sql: string | QueryOptions, values?: unknown): Promise<[T, FieldPacket[]]> {
    return this.#run('execute', sql, values);
  }

  /**
   * Runs `fn` in a transaction: committed when it resolves, rolled back when it throws. Nested
   * calls (or a call inside a transaction opened with a raw BEGIN) use a savepoint.
   *
   * @example
   * await s.transaction(async (tx) => { await tx.query('UPDATE account SET balance = balance - 1'); });
   */
  async transaction<T>(fn: (tx: DbSession) => Promise<T>): Promise<T> {
    await this.#borrow();
    const savepoint = this.#inTransaction ? `dbswitch_savepoint_${++this.#savepoints}` : undefined;
    await this.query(savepoint === undefined ? 'START TRANSACTION' : `SAVEPOINT ${savepoint}`);
    let result: T;
    try {
      result = await fn(this);
    } catch (err) {
      await this.query(savepoint === undefined ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${savepoint}`).catch((rollbackErr: unknown) => {
        // The caller gets the error that made us roll back; the connection will not be reused.
        this.#broken = true;
        this.#host.logger.warn({ err: String(rollbackErr) }, 'rollback after a failed transaction failed');
      });
      throw err;
    }
    await this.query(savepoint === undefined ? 'COMMIT' : `RELEASE SAVEPOINT ${savepoint}`);
    return result;
  }

  /**
   * The mysql2 promise connection underneath, for tools that want the driver itself (Kysely,
   * Drizzle). Statements run through it bypass the session's bookkeeping, so on release the
   * connection is reset (COM_RESET_CONNECTION) rather than merely rolled back.
   *
   * Before the first statement nothing is borrowed yet: the methods of what this returns borrow
   * first. Read plain properties (`threadId`) after `await session.connect()`.
   */
  get connection(): PromiseConnection {
    this.#assertUsable();
    this.#cleanup = Cleanup.Reset;
    if (this.#conn !== undefined) return this.#conn.promise;
    return borrowingConnection(async () => (await this.#borrow()).promise);
  }

  /** Borrows the connection now (it is otherwise borrowed on the first statement) and returns it. */
  async connect(): Promise<PromiseConnection> {
    await this.#borrow();
    return this.connection;
  }

  /**
   * Gives the connection back. Idempotent: every call returns the same promise, and the
   * connection is handed back exactly once.
   */
  release(): Promise<void> {
    this.#released ??= this.#giveBack();
    return this.#released;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  async #run<T>(method: 'query' | 'execute', sql: string | QueryOptions, values: unknown): Promise<[T, FieldPacket[]]> {
    let conn = this.#conn ?? (await this.#borrow());
    this.#assertUsable();
    if (this.#host.logQueries) {
      const text = typeof sql === 'string' ? sql : sql.sql;
      this.#host.logger.info({ sql: redactSql(text), parameters: countValues(values) }, 'query');
    }
    const firstOnConnection = this.#statements++ === 0;
    this.#inFlight++;
    try {
      let result: [T, FieldPacket[]];
      try {
        result = await send<T>(conn, method, sql, values);
      } catch (err) {
        // The server closed a pooled connection a moment before this process could notice; the
        // statement never left, so it runs once more on a fresh connection.
        if (!firstOnConnection || !neverSent(err)) throw err;
        this.#host.logger.debug({ err: String(err) }, 'pooled connection was closed by the server; retrying on a new one');
        conn = await this.#replace(conn);
        result = await send<T>(conn, method, sql, values);
      }
      this.#track(result[0]);
      return result;
    } catch (err) {
      throw this.#failed(err);
    } finally {
      this.#inFlight--;
    }
  }

  async #replace(stale: PooledConnection): Promise<PooledConnection> {
    this.#host.destroy(stale);
    this.#conn = undefined;
    this.#borrowing = undefined;
    return this.#borrow();
  }

  #borrow(): Promise<PooledConnection> {
    this.#assertUsable();
    this.#borrowing ??= this.#host.acquire().then(
      (conn) => {
        this.#conn = conn;
        this.#statements = 0;
        return conn;
      },
      (err: unknown) => {
        // Not cached: the session may try again (after an acquire timeout, say).
        this.#borrowing = undefined;
        throw err;
      },
    );
    return this.#borrowing;
  }

  #assertUsable(): void {
    if (this.#released !== undefined) {
      throw new DbSwitchError('ESESSION_RELEASED', 'this session has been released; start a new one with db.session() or db.getDb()');
    }
  }

  /** Follows the transaction state in the status flags of each OK packet. */
  #track(result: unknown): void {
    const header: unknown = Array.isArray(result) ? result.at(-1) : result;
    if (typeof header !== 'object' || header === null || !('serverStatus' in header) || !('affectedRows' in header)) return;
    const status = (header as { serverStatus: unknown }).serverStatus;
    if (typeof status !== 'number') return;
    this.#inTransaction = (status & SERVER_STATUS_IN_TRANS) !== 0;
    if (this.#cleanup === Cleanup.Reset) return;
    if ((status & SERVER_STATUS_AUTOCOMMIT) === 0) this.#cleanup = Cleanup.Reset;
    else this.#cleanup = this.#inTransaction ? Cleanup.Rollback : Cleanup.None;
  }

  #failed(err: unknown): unknown {
    if ((err as { fatal?: unknown }).fatal === true) {
      this.#broken = true;
      return this.#host.lostError(err, this.#conn);
    }
    // A failed statement leaves the transaction state as it was, except for the few errors
    // that roll back on their own (deadlock); roll back on release to be sure.
    if (this.#cleanup === Cleanup.None) this.#cleanup = Cleanup.Rollback;
    return err;
  }

  async #giveBack(): Promise<void> {
    const conn = this.#conn ?? (await this.#borrowing?.catch(() => undefined));
    if (conn === undefined) return;
    if (this.#broken || !conn.alive || this.#inFlight > 0) {
      // A statement still running (the caller did not await it) or a broken link: the
      // connection's state cannot be trusted, so it is closed rather than pooled.
      this.#host.destroy(conn);
      return;
    }
    const cleanup = this.#host.resetOnRelease ? Cleanup.Reset : this.#cleanup;
    try {
      if (cleanup === Cleanup.Rollback) {
        await conn.promise.query('ROLLBACK');
      } else if (cleanup === Cleanup.Reset) {
        await conn.promise.reset();
      }
    } catch (err) {
      this.#host.logger.debug({ err: String(err) }, 'cleaning up a released connection failed; closing it');
      this.#host.destroy(conn);
      return;
    }
    this.#host.release(conn);
  }
}

function countValues(values: unknown): number {
  if (Array.isArray(values)) return values.length;
  if (typeof values === 'object' && values !== null) return Object.keys(values).length;
  return values === undefined ? 0 : 1;
}

function send<T>(conn: PooledConnection, method: 'query' | 'execute', sql: unknown, values: unknown): Promise<[T, FieldPacket[]]> {
  return new Promise((resolve, reject) => {
    runStatement(conn.connection, method, sql, values, (err, rows, columns) => {
      if (err) reject(err instanceof Error ? err : new Error(`mysql2 failed: ${JSON.stringify(err)}`));
      else resolve([rows as T, columns as FieldPacket[]]);
    });
  });
}
