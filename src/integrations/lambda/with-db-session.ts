import type { CreateDbOptions } from '../../db/create-db.js';
import type { Db } from '../../db/db.js';
import type { DbSession } from '../../db-session.js';
import { DbSwitchError } from '../../errors.js';
import type { DbSessionHandler, LambdaContext, LambdaHandler } from './lambda-slices.js';
import { LazyDb } from './lazy-db.js';

/** The default of {@link WithDbSessionOptions.timeoutMarginMs}. */
export const DEFAULT_TIMEOUT_MARGIN_MS = 500;

/** How {@link withDbSession} stops work that would outlive the invocation. */
interface DeadlineOptions {
  /**
   * How long before the invocation's timeout (`context.getRemainingTimeInMillis()`) its session
   * is aborted: a statement still running then is killed on the server and rejects with
   * ECANCELLED (its `cause` an ETIMEOUT error saying so), an open transaction is rolled back,
   * and later statements of the invocation get ESESSION_RELEASED. The margin is the time the
   * kill needs (a control connection and KILL QUERY) before Lambda stops the process and
   * leaves the statement running on the server. `false`: no deadline. Default: 500 ms.
   */
  readonly timeoutMarginMs?: number | false;
}

/** Where the Db comes from: made by dbswitch/lambda on first use (the default), or yours. */
type DbSource =
  | {
      /** Options of `createDb()` for the Db made on the first invocation. Default: `{}` (process.env, `.env`, `config/dbswitch*.json`). */
      readonly options?: CreateDbOptions;
      readonly db?: undefined;
    }
  | {
      /**
       * A Db you made (at module level: `createDb()` connects nothing), e.g. to share it with
       * other code or to `closeOnSignals(db)`; you own it. Not together with `options`.
       */
      readonly db: Db;
      readonly options?: undefined;
    };

/** Options of {@link withDbSession}. */
export type WithDbSessionOptions = DeadlineOptions & DbSource;

/**
 * Turns `(event, context, session) => result` into a Lambda handler `(event, context) =>
 * Promise<result>`. The execution environment keeps one Db, made on the first invocation (not
 * at import: the INIT phase connects nothing) and reused while the environment lives; each
 * invocation gets a session of its own, released before the returned promise settles, also
 * when the handler throws (an open transaction is rolled back).
 *
 * Between invocations nothing of dbswitch keeps the event loop busy: idle connections and the
 * SSH tunnel are unref'd and so are its timers, so `callbackWaitsForEmptyEventLoop` never
 * waits on it. After a thaw, a connection the server dropped while the environment was frozen
 * (`wait_timeout`, KILL, a failover) is replaced before the invocation's first statement: when
 * the server's close is there at the thaw (one turn of the event loop lets the pool hear of it),
 * and by the pre-ping of a connection idle longer than `pool.pingAfterIdleMs` (5 s) otherwise.
 *
 * The session is aborted `timeoutMarginMs` (500 ms) before the invocation times out, so no
 * statement or transaction outlives it on the server.
 *
 * @example
 * // handler.ts: DB_TYPE and the DB_* variables of the function choose how it connects
 * import type { RowDataPacket } from 'dbswitch';
 * import { withDbSession } from 'dbswitch/lambda';
 *
 * export const handler = withDbSession(async (event: { id: number }, _context, session) => {
 *   const [rows] = await session.query<RowDataPacket[]>('SELECT id, name FROM customer WHERE id = ?', [event.id]);
 *   return rows[0] ?? null;
 * });
 *
 * @example
 * // Typed with @types/aws-lambda, a Db of your own, no deadline
 * export const handler: Handler<APIGatewayProxyEvent, APIGatewayProxyResult> = withDbSession(
 *   async (event, context, session) => ({ statusCode: 200, body: JSON.stringify((await session.query('SELECT 1'))[0]) }),
 *   { db, timeoutMarginMs: false },
 * );
 */
export function withDbSession<TEvent, TResult, TContext extends LambdaContext = LambdaContext>(
  handler: DbSessionHandler<TEvent, TResult, TContext>,
  options: WithDbSessionOptions = {},
): LambdaHandler<TEvent, TResult, TContext> {
  if (typeof handler !== 'function') throw new DbSwitchError('EUSAGE', 'withDbSession(handler): handler must be a function (event, context, session) => result');
  const marginMs = options.timeoutMarginMs ?? DEFAULT_TIMEOUT_MARGIN_MS;
  if (marginMs !== false && (typeof marginMs !== 'number' || !Number.isFinite(marginMs) || marginMs < 0)) {
    throw new DbSwitchError('EUSAGE', `withDbSession: timeoutMarginMs must be a number of ms >= 0, or false; got ${JSON.stringify(marginMs)}`);
  }
  // The types forbid both; plain JavaScript does not.
  const given: { readonly db?: unknown; readonly options?: unknown } = options;
  if (given.db !== undefined && given.options !== undefined) {
    throw new DbSwitchError('EUSAGE', 'withDbSession: pass either db (a Db of yours) or options (for the Db it makes), not both');
  }
  const own = options.db;
  const source: { get(): Db | Promise<Db> } = own === undefined ? new LazyDb(options.options ?? {}) : { get: () => own };
  return async (event, context) => {
    const db = await source.get();
    // At a thaw, the invocation and the news that the server dropped a connection meanwhile
    // (its FIN, an SSH channel's EOF) are ready at once, and the invocation may be read first:
    // one turn of the event loop lets the pool hear of the loss before the first statement is
    // written to a dead connection (which would then fail as ECONNECTION_LOST, being sent).
    await new Promise<void>((resolve) => {
      setImmediate(resolve);
    });
    return db.withSession(async (session) => {
      const disarm = marginMs === false ? undefined : abortBeforeTimeout(session, context, marginMs);
      try {
        return await handler(event, context, session);
      } finally {
        disarm?.();
      }
    });
  };
}

/**
 * Aborts `session` `marginMs` before the invocation's timeout; returns what cancels that. A
 * context without getRemainingTimeInMillis() (a hand-made one in a unit test) sets no deadline.
 */
function abortBeforeTimeout(session: DbSession, context: LambdaContext, marginMs: number): (() => void) | undefined {
  const remaining = typeof context.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : Number.NaN;
  if (!Number.isFinite(remaining)) return undefined;
  const timer = setTimeout(() => {
    const reason = new DbSwitchError(
      'ETIMEOUT',
      `the Lambda invocation was about to time out (${remaining} ms it had left at its start, minus timeoutMarginMs ${marginMs} ms of withDbSession): its session was aborted`,
    );
    // release() in withSession's finally awaits this same promise.
    void session.abort(reason);
  }, Math.max(0, remaining - marginMs));
  // Only a bound: it must never be what keeps the process alive.
  timer.unref();
  return () => {
    clearTimeout(timer);
  };
}
