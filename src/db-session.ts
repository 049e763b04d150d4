import type { Connection, FieldPacket, QueryOptions, QueryResult } from 'mysql2';
import type { Connection as PromiseConnection } from 'mysql2/promise';
import { DbSwitchError } from './errors.js';

/** A statement as a session hands it to its connection. */
export interface StatementRequest {
  readonly method: 'query' | 'execute';
  /** SQL text, or mysql2's options object (its `timeout` is dbswitch's to enforce, so it is removed). */
  readonly sql: string | QueryOptions;
  readonly values: unknown;
  /** Give up after this many ms (0: never); the statement is killed on the server. */
  readonly timeoutMs: number;
  /** Give up when this aborts; the statement is killed on the server. */
  readonly signal: AbortSignal | undefined;
  /** dbswitch's own statement (transaction control): not counted as a change of session state. */
  readonly internal?: boolean;
}

/** A connection lent to a session (the pool's). */
export interface LentConnection {
  /** The mysql2 connection underneath (callback API). */
  readonly connection: Connection;
  /** The mysql2 promise API over it. */
  readonly promise: PromiseConnection;
  /** False once it broke or was closed. */
  readonly alive: boolean;
  /** Whether the server reported an open transaction in its last status. */
  readonly inTransaction: boolean;
  run(request: StatementRequest): Promise<[unknown, FieldPacket[]]>;
}

/**
 * Hears how a borrow ended: `(null, conn)` once a connection is lent, `(err)` when none will be.
 * Called once; it must not throw (it may run inside another caller's give-back).
 */
export type BorrowCallback<C> = (err: unknown, conn?: C) => void;

/** A BorrowCallback that settles a promise (`new Promise((resolve, reject) => borrow(settling(resolve, reject)))`). */
export function settling<C>(resolve: (conn: C) => void, reject: (err: unknown) => void): BorrowCallback<C> {
  return (err, conn) => {
    if (conn === undefined) reject(err);
    else resolve(conn);
  };
}

/** Where sessions borrow connections from (the Db's pool). */
export interface ConnectionLender<C extends LentConnection = LentConnection> {
  acquire(): Promise<C>;
  /**
   * Takes a connection back, giving up what still runs on it (with the error for `reason`,
   * default: released) and cleaning up its state. Resolves when done; undefined when that was
   * at once (the common case, which allocates nothing).
   */
  giveBack(conn: C, reason?: GiveUpReason): Promise<void> | undefined;
}

/** Why a caller stopped waiting for a statement. */
export type GiveUpReason =
  | { readonly kind: 'timeout'; readonly timeoutMs: number }
  | { readonly kind: 'aborted'; readonly reason: unknown }
  | { readonly kind: 'released' }
  | { readonly kind: 'closed' };

/** What a session needs beside its lender. */
export interface SessionOptions {
  /** Default per-statement timeout, ms (0: none): `db.statementTimeoutMs`. */
  readonly statementTimeoutMs: number;
  /** Called with each statement before it runs (query logging); never given parameter values. */
  readonly onStatement: ((sql: string, parameterCount: number) => void) | undefined;
  /** Whether a statement that failed before reaching the server may run again elsewhere. */
  readonly wasNotSent: (err: unknown) => boolean;
  /** The error a caller gets when it gives up on a statement (`killing`: it runs on the server). */
  readonly giveUpError: (reason: GiveUpReason, killing: boolean) => DbSwitchError;
}

/** mysql2's query options, plus an AbortSignal that cancels the statement on the server. */
export type StatementOptions = QueryOptions & { readonly signal?: AbortSignal };

/** SQL isolation levels for {@link DbSession.transaction}. */
export const ISOLATION_LEVELS = ['READ UNCOMMITTED', 'READ COMMITTED', 'REPEATABLE READ', 'SERIALIZABLE'] as const;
export type IsolationLevel = (typeof ISOLATION_LEVELS)[number];

/** How {@link DbSession.transaction} starts its transaction. */
export interface TransactionOptions {
  /** For this transaction only. Default: the server's (`transaction_isolation`). */
  readonly isolationLevel?: IsolationLevel;
  /** `START TRANSACTION READ ONLY` (true) or `READ WRITE` (false). Default: the server's. */
  readonly readOnly?: boolean;
}

/**
 * The session's life. It borrows on its first statement; if its connection breaks, the next
 * statement borrows again, unless a transaction was open on it: then the session is `broken`,
 * since running on would commit half a transaction.
 */
type SessionPhase<C extends LentConnection> =
  | { readonly name: 'unborrowed' }
  | { readonly name: 'borrowing'; readonly connection: Promise<C> }
  | { readonly name: 'attached'; readonly conn: C }
  | { readonly name: 'broken'; readonly error: DbSwitchError }
  | { readonly name: 'released'; readonly done: Promise<void>; readonly reason: GiveUpReason };

/**
 * One unit of work on one connection, borrowed lazily on the first statement and given back
 * exactly once. On release, a statement still running is killed on the server, a transaction
 * left open is rolled back, and session state the next user would inherit (variables, temporary
 * tables, locks, the current schema) is reset; a connection that failed is closed, not pooled.
 *
 * @example
 * await db.withSession(async (s) => {
 *   const [rows] = await s.query('SELECT ? AS x', [1]);
 * });
 */
export class DbSession<C extends LentConnection = LentConnection> implements AsyncDisposable {
  readonly #lender: ConnectionLender<C>;
  readonly #options: SessionOptions;
  #phase: SessionPhase<C> = { name: 'unborrowed' };
  /** Connections that broke under this session, being given back. */
  readonly #returning = new Set<Promise<void>>();
  #savepoints = 0;
  /** Whether the attached connection has not run a statement of this session yet. */
  #freshConnection = false;
  /** The guarded raw connection handed out by connect(), revoked on release. */
  #raw: { readonly conn: C; readonly guarded: PromiseConnection; readonly revoke: () => void } | undefined;

  constructor(lender: ConnectionLender<C>, options: SessionOptions) {
    this.#lender = lender;
    this.#options = options;
  }

  /** True once release() has been called. */
  get released(): boolean {
    return this.#phase.name === 'released';
  }

  /**
   * Runs a statement, as mysql2's promise `query` does: values are escaped into `?`
   * placeholders client-side. Options: mysql2's, plus `timeout` (ms, ETIMEOUT) and `signal`
   * (AbortSignal, ECANCELLED); either way the statement is killed on the server.
   *
   * @example
   * const [rows] = await s.query({ sql: 'SELECT SLEEP(9)', timeout: 500 }); // ETIMEOUT at 500 ms
   */
  query<T extends QueryResult = QueryResult>(sql: string | StatementOptions, values?: unknown): Promise<[T, FieldPacket[]]> {
    return this.#run<T>(this.#request('query', sql, values));
  }

  /** Runs a prepared statement, as mysql2's promise `execute` does (cached per connection). */
  execute<T extends QueryResult = QueryResult>(sql: string | StatementOptions, values?: unknown): Promise<[T, FieldPacket[]]> {
    return this.#run<T>(this.#request('execute', sql, values));
  }

  /**
   * Runs `fn` in a transaction: committed when it resolves, rolled back when it throws. A call
   * inside a transaction (nested, or opened with a raw BEGIN) uses a savepoint.
   *
   * @example
   * await s.transaction(async (tx) => { await tx.query('UPDATE account SET balance = balance - 1'); },
   *   { isolationLevel: 'READ COMMITTED' });
   */
  async transaction<T>(fn: (tx: this) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const conn = await this.#connection();
    const nested = conn.inTransaction;
    if (nested && (options.isolationLevel !== undefined || options.readOnly !== undefined)) {
      throw new DbSwitchError('EUSAGE', 'isolationLevel and readOnly apply to an outer transaction only; this one would be a savepoint inside another');
    }
    if (options.isolationLevel !== undefined && !ISOLATION_LEVELS.includes(options.isolationLevel)) {
      throw new DbSwitchError('EUSAGE', `isolationLevel must be one of ${ISOLATION_LEVELS.join(', ')}; got ${JSON.stringify(options.isolationLevel)}`);
    }
    const savepoint = nested ? `dbswitch_savepoint_${++this.#savepoints}` : undefined;
    if (savepoint !== undefined) {
      await this.#control(`SAVEPOINT ${savepoint}`);
    } else {
      if (options.isolationLevel !== undefined) await this.#control(`SET TRANSACTION ISOLATION LEVEL ${options.isolationLevel}`);
      const access = options.readOnly === undefined ? '' : options.readOnly ? ' READ ONLY' : ' READ WRITE';
      await this.#control(`START TRANSACTION${access}`);
    }
    let result: T;
    try {
      result = await fn(this);
    } catch (err) {
      // The caller gets the error that made us roll back. A connection that broke rolled back by itself.
      if (this.#phase.name === 'attached' && this.#phase.conn.alive) {
        await this.#control(savepoint === undefined ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${savepoint}`).catch(() => undefined);
      }
      throw err;
    }
    await this.#control(savepoint === undefined ? 'COMMIT' : `RELEASE SAVEPOINT ${savepoint}`);
    return result;
  }

  /**
   * Borrows the connection now (it is otherwise borrowed on the first statement) and returns
   * the mysql2 promise connection underneath, for code that wants the driver itself. What runs
   * on it is seen by the session: state it changes is reset on release, as for `query`. After
   * release, every call on it fails with ESESSION_RELEASED (the connection then serves others).
   */
  async connect(): Promise<PromiseConnection> {
    const conn = await this.#connection();
    if (this.#raw?.conn !== conn) {
      this.#raw?.revoke();
      this.#raw = { conn, ...guardedConnection(conn.promise) };
    }
    return this.#raw.guarded;
  }

  /**
   * Gives the connection back. Idempotent: every call returns the same promise, and the
   * connection is handed back exactly once. A statement still running is cancelled on the
   * server (it rejects with ESESSION_RELEASED).
   */
  release(): Promise<void> {
    return this.#end({ kind: 'released' });
  }

  /**
   * Gives up on the session: a statement still running rejects with ECANCELLED (`reason` as
   * its cause) and is killed on the server, then the session is released. For a request the
   * client aborted. Idempotent with release(): whichever comes first decides.
   *
   * @example
   * req.on('close', () => { if (!res.writableFinished) void session.abort(new Error('client went away')); });
   */
  abort(reason?: unknown): Promise<void> {
    return this.#end({ kind: 'aborted', reason });
  }

  #end(reason: GiveUpReason): Promise<void> {
    const phase = this.#phase;
    if (phase.name === 'released') return phase.done;
    this.#raw?.revoke();
    const done = this.#giveBack(phase, reason);
    this.#phase = { name: 'released', done, reason };
    return done;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  #request(method: 'query' | 'execute', sql: string | StatementOptions, values: unknown): StatementRequest {
    const timeoutMs = this.#options.statementTimeoutMs;
    if (typeof sql === 'string') return { method, sql, values, timeoutMs, signal: undefined };
    const { timeout, signal, ...rest } = sql;
    if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0)) {
      throw new DbSwitchError('EUSAGE', `the timeout option must be a number of ms >= 0; got ${JSON.stringify(timeout)}`);
    }
    return { method, sql: rest, values, timeoutMs: timeout ?? timeoutMs, signal };
  }

  async #run<T>(request: StatementRequest): Promise<[T, FieldPacket[]]> {
    if (this.#options.onStatement !== undefined) {
      const text = typeof request.sql === 'string' ? request.sql : request.sql.sql;
      this.#options.onStatement(text, countValues(request.values ?? (typeof request.sql === 'string' ? undefined : request.sql.values)));
    }
    if (request.signal?.aborted === true) throw this.#options.giveUpError({ kind: 'aborted', reason: request.signal.reason }, false);
    const started = Date.now();
    let conn = await untilGivenUp(this.#connection(), request, this.#options.giveUpError);
    // The timeout bounds the whole call, the wait for a connection included.
    const timed = request.timeoutMs > 0 ? { ...request, timeoutMs: Math.max(1, request.timeoutMs - (Date.now() - started)) } : request;
    const fresh = this.#freshConnection;
    this.#freshConnection = false;
    this.#assertNotEnded();
    try {
      return (await conn.run(timed)) as [T, FieldPacket[]];
    } catch (err) {
      if (conn.alive) throw err;
      this.#detach(conn, err);
      // The server had closed a pooled connection a moment before this process could notice;
      // the statement never left, so it runs once more on a fresh connection.
      if (!fresh || !this.#options.wasNotSent(err)) throw err;
      conn = await untilGivenUp(this.#connection(), request, this.#options.giveUpError);
      this.#freshConnection = false;
      this.#assertNotEnded();
      return (await conn.run(timed)) as [T, FieldPacket[]];
    }
  }

  /**
   * Throws when the session was released or aborted while a statement waited for its
   * connection: the connection is then on its way back to the pool (or lent to another session)
   * and nothing may be sent on it. Called right before `run`, with no await in between.
   */
  #assertNotEnded(): void {
    const phase = this.#phase;
    if (phase.name === 'released') throw this.#options.giveUpError(phase.reason, false);
  }

  /** Transaction control, which must not count as a change of session state. */
  async #control(sql: string): Promise<void> {
    await this.#run({ method: 'query', sql, values: undefined, timeoutMs: 0, signal: undefined, internal: true });
  }

  #connection(): Promise<C> {
    const phase = this.#phase;
    switch (phase.name) {
      case 'attached':
        return Promise.resolve(phase.conn);
      case 'borrowing':
        return phase.connection;
      case 'broken':
        return Promise.reject(phase.error);
      case 'released':
        return Promise.reject(releasedError());
      case 'unborrowed': {
        const connection = this.#lender.acquire().then(
          (conn) => {
            if (this.#phase.name === 'borrowing' && this.#phase.connection === connection) {
              this.#phase = { name: 'attached', conn };
              this.#freshConnection = true;
            }
            return conn;
          },
          (err: unknown) => {
            // Not kept: the session may try again (after an acquire timeout, say).
            if (this.#phase.name === 'borrowing' && this.#phase.connection === connection) this.#phase = { name: 'unborrowed' };
            throw err;
          },
        );
        this.#phase = { name: 'borrowing', connection };
        return connection;
      }
    }
  }

  /** The attached connection broke: give it back; with a transaction open, the session is broken. */
  #detach(conn: C, err: unknown): void {
    if (this.#phase.name !== 'attached' || this.#phase.conn !== conn) return;
    this.#raw?.revoke();
    this.#raw = undefined;
    this.#phase = conn.inTransaction
      ? {
          name: 'broken',
          error: new DbSwitchError(
            'ECONNECTION_LOST',
            'the connection carrying this session\'s open transaction was lost, and the transaction with it; release this session and start the work again in a new one',
            { cause: err },
          ),
        }
      : { name: 'unborrowed' };
    const returning = this.#lender.giveBack(conn);
    if (returning === undefined) return;
    const tracked = returning.finally(() => this.#returning.delete(tracked));
    this.#returning.add(tracked);
  }

  async #giveBack(phase: SessionPhase<C>, reason: GiveUpReason): Promise<void> {
    let conn: C | undefined;
    if (phase.name === 'attached') conn = phase.conn;
    else if (phase.name === 'borrowing') conn = await phase.connection.catch(() => undefined);
    if (conn !== undefined) await this.#lender.giveBack(conn, reason);
    await Promise.all(this.#returning);
  }
}

/**
 * Waits for a connection, unless the statement's AbortSignal or timeout gives up first: then
 * the caller hears at once (ECANCELLED, ETIMEOUT) that nothing was sent. A connection that
 * arrives later stays with the session.
 */
function untilGivenUp<C>(connection: Promise<C>, request: StatementRequest, giveUpError: SessionOptions['giveUpError']): Promise<C> {
  const { signal, timeoutMs } = request;
  if (signal === undefined && timeoutMs === 0) return connection;
  return new Promise<C>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const stop = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      stop();
      reject(giveUpError({ kind: 'aborted', reason: signal?.reason }, false));
    };
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        stop();
        reject(giveUpError({ kind: 'timeout', timeoutMs }, false));
      }, timeoutMs);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    connection.then(
      (conn) => {
        stop();
        resolve(conn);
      },
      (err: unknown) => {
        stop();
        reject(err instanceof Error ? err : new DbSwitchError('ECONNECT', String(err)));
      },
    );
  });
}

function releasedError(): DbSwitchError {
  return new DbSwitchError('ESESSION_RELEASED', 'this session has been released; start a new one with db.session() or db.getDb()');
}

function countValues(values: unknown): number {
  if (Array.isArray(values)) return values.length;
  if (typeof values === 'object' && values !== null) return Object.keys(values).length;
  return values === undefined ? 0 : 1;
}

/**
 * The mysql2 promise connection, and the callback connection under it, as they are, except that
 * after `revoke()` every method fails with ESESSION_RELEASED: the connection then belongs to
 * another session. Properties (`threadId`, `config`) read through unchanged.
 */
function guardedConnection(target: PromiseConnection): { guarded: PromiseConnection; revoke: () => void } {
  let revoked = false;
  const guard = <T extends object>(object: T, fail: (name: string) => unknown): T =>
    new Proxy(object, {
      get(inner, property) {
        const value: unknown = Reflect.get(inner, property, inner);
        if (property === 'connection' && typeof value === 'object' && value !== null) {
          return guard(value, (name) => {
            throw releasedUse(name);
          });
        }
        if (typeof value !== 'function') return value;
        return (...args: unknown[]): unknown => (revoked ? fail(String(property)) : (value as (...a: unknown[]) => unknown).apply(inner, args));
      },
    });
  const guarded = guard(target, (name) => Promise.reject(releasedUse(name)));
  return {
    guarded,
    revoke: () => {
      revoked = true;
    },
  };
}

function releasedUse(method: string): DbSwitchError {
  return new DbSwitchError(
    'ESESSION_RELEASED',
    `${method}() on a connection from session.connect() after the session was released; the connection now serves another session. Start a new session.`,
  );
}
