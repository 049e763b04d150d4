import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Db } from '../../db/db.js';

/**
 * What the middleware needs of a Db: a new session per request. A `Db` from `createDb()` is one;
 * so is a wrapper of it (a test counting sessions, say).
 *
 * @example
 * const counting: SessionSource = { session: () => { opened++; return db.session(); } };
 * app.use(dbMiddleware(counting));
 */
export type SessionSource = Pick<Db, 'session'>;

/**
 * Express's `next`, as both Express 4 and 5 call it. Typed on Node's own request and response
 * (which Express's extend), so these handlers fit `app.use()` of either version and the package's
 * types need no `@types/express`.
 *
 * @example
 * const handler: RequestHandler = (req, res, next) => { next(new Error('not today')); };
 */
export type NextFunction = (err?: unknown) => void;

/**
 * A middleware as `app.use()` takes it (Express 4 and 5): what {@link dbMiddleware} returns.
 *
 * @example
 * const withDb: RequestHandler = dbMiddleware(db);
 * app.use(withDb);
 */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse, next: NextFunction) => void;

/**
 * An error handler as `app.use()` takes it: four parameters, which is how Express tells one.
 * What {@link dbErrorHandler} returns.
 *
 * @example
 * const quietAborts: ErrorRequestHandler = dbErrorHandler();
 * app.use(quietAborts);
 */
export type ErrorRequestHandler = (err: unknown, req: IncomingMessage, res: ServerResponse, next: NextFunction) => void;
