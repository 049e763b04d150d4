import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DbSession } from '../../db-session.js';
import { isDbSwitchError } from '../../errors.js';
import { markAborted } from './aborted-requests.js';
import { describeRequest } from './describe-request.js';
import type { RequestHandler, SessionSource } from './http-slices.js';

/**
 * Puts a {@link DbSession} on `req.db` for each request. The session borrows a connection on its
 * first statement only (a route that never queries costs nothing) and is given back exactly
 * once: released when the handler ends the response (res.end()), or aborted when the client
 * closed the connection first. An abort cancels the statement still running, on the server too (KILL QUERY), and the
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
 * Calls `ended` once: when the handler ended the response (true), or when the connection closed
 * before that (false). Checks first: an earlier middleware may have awaited something while the
 * client went away, and 'close' is emitted only once.
 */
function onResponseEnd(res: ServerResponse, ended: (complete: boolean) => void): void {
  if (res.writableEnded) {
    ended(true);
    return;
  }
  if (res.closed || res.destroyed) {
    ended(false);
    return;
  }
  let done = false;
  const once = (complete: boolean): void => {
    if (done) return;
    done = true;
    res.off('close', onClose);
    ended(complete);
  };
  // At res.end() (which res.json() and res.send() call, and a pipe at its end) the handler has
  // produced the whole response: the connection goes back then, not an event-loop turn later at
  // 'finish' (once the OS took the bytes). Under load that turn held each connection several
  // times as long as its statement. An own property shadows the prototype's end(), as
  // compression and on-headers do. 'close' first: the client left before the response was ended.
  // (Not req's 'close': since Node 16 it fires as soon as the request body has been read.)
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.end = ((...args: unknown[]): ServerResponse => {
    const result = end(...args);
    once(true);
    return result;
  }) as ServerResponse['end'];
  const onClose = (): void => {
    once(res.writableEnded);
  };
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
