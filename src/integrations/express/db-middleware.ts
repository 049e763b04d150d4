import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DbSession } from '../../db-session.js';
import { isDbSwitchError } from '../../errors.js';
import { markAborted } from './aborted-requests.js';
import { describeRequest } from './describe-request.js';
import type { RequestHandler, SessionSource } from './http-slices.js';

/**
 * Puts a {@link DbSession} on `req.db` for each request. The session borrows a connection on its
 * first statement only (a route that never queries costs nothing) and is given back exactly
 * once: released when the response is complete, or aborted when the client closed the connection
 * first. An abort cancels the statement still running, on the server too (KILL QUERY), and the
 * handler awaiting it gets ECANCELLED; a statement after the abort gets ESESSION_RELEASED. Mount
 * {@link dbErrorHandler} after the routes to keep those out of the error log.
 *
 * A request that arrives after `db.close()` began (on a keep-alive connection that outlived
 * `server.close()`) is answered `503` with `Connection: close`, so its client goes elsewhere and
 * the server can finish closing.
 *
 * @example
 * const db = await createDb();
 * app.use(dbMiddleware(db));
 * app.get('/users/:id', async (req, res) => {
 *   const [rows] = await req.db.query<RowDataPacket[]>('SELECT name FROM users WHERE id = ?', [req.params.id]);
 *   res.json(rows[0] ?? null);
 * });
 * app.use(dbErrorHandler());
 */
export function dbMiddleware(db: SessionSource): RequestHandler {
  return (req, res, next) => {
    db.session().then(
      (session) => {
        (req as IncomingMessage & Express.Request).db = session;
        onResponseEnd(res, (complete) => {
          endSession(req, session, complete).catch(warnEndFailure);
        });
        next();
      },
      (err: unknown) => {
        if (isDbSwitchError(err, 'ECLOSED') && !res.headersSent) refuseWhileClosing(res);
        else next(err);
      },
    );
  };
}

/**
 * Calls `ended` once, when the response is complete (true) or its connection closed before
 * that (false). Checks first: an earlier middleware may have awaited something while the client
 * went away, and 'close' is emitted only once.
 */
function onResponseEnd(res: ServerResponse, ended: (complete: boolean) => void): void {
  if (res.writableFinished) {
    ended(true);
    return;
  }
  if (res.closed || res.destroyed) {
    ended(false);
    return;
  }
  // 'finish': the whole response is handed to the OS; the connection goes back at once, a tick
  // before 'close'. 'close' alone: the client left first. (Not req's 'close': since Node 16 it
  // fires as soon as the request body has been read.)
  const onFinish = (): void => {
    res.off('close', onClose);
    ended(true);
  };
  const onClose = (): void => {
    res.off('finish', onFinish);
    ended(res.writableFinished);
  };
  res.once('finish', onFinish);
  res.once('close', onClose);
}

function endSession(req: IncomingMessage, session: DbSession, complete: boolean): Promise<void> {
  if (complete) return session.release();
  // Marked first: the statement's rejection reaches dbErrorHandler only after this.
  markAborted(req);
  return session.abort(new Error(`the client closed the connection before the response to ${describeRequest(req)} was complete`));
}

/**
 * The Db is closing (SIGTERM): no session for this request. Answered here rather than as an
 * error, which Express would log for every request of a client that keeps its connection alive;
 * `Connection: close` ends that connection, which `server.close()` waits for.
 */
function refuseWhileClosing(res: ServerResponse): void {
  res.statusCode = 503;
  res.setHeader('Connection', 'close');
  res.setHeader('Retry-After', '1');
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end('Service Unavailable: shutting down\n');
}

/**
 * Ending a session does not fail in dbswitch (the pool closes a connection it cannot clean);
 * should it ever, no request is left to fail, so it is reported as a process warning, never
 * dropped and never an unhandled rejection.
 */
function warnEndFailure(err: unknown): void {
  process.emitWarning(err instanceof Error ? err : new Error(String(err)), { code: 'DBSWITCH_SESSION_END' });
}
