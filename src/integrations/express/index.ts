// dbswitch/express: a session per request on req.db, released when the response is done and
// aborted when the client goes away; an error handler that keeps those aborts out of the log.
// Nothing here imports Express: the handlers are typed on node:http, which Express 4 and 5 extend.
import type { DbSession } from '../../db-session.js';

export { dbMiddleware } from './db-middleware.js';
export { dbErrorHandler, type DbErrorHandlerOptions } from './db-error-handler.js';
export type { ErrorRequestHandler, NextFunction, RequestHandler, SessionSource } from './http-slices.js';

declare global {
  // Express's own way to type what a middleware adds to every request (@types/express merges it).
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /**
       * This request's session, from {@link dbMiddleware}: borrows a connection on its first
       * statement, released when the response is done, aborted when the client goes away.
       *
       * @example
       * app.get('/now', async (req, res) => { res.json((await req.db.query('SELECT NOW() AS now'))[0]); });
       */
      db: DbSession;
    }
  }
}
