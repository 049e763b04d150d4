import { isDbSwitchError } from '../../errors.js';
import { wasAborted } from './aborted-requests.js';
import { describeRequest } from './describe-request.js';
import type { ErrorRequestHandler } from './http-slices.js';

/**
 * Options of {@link dbErrorHandler}.
 *
 * @example
 * app.use(dbErrorHandler({ logger: pino() }));  // {"level":30,"msg":"GET /report: the client went away; ..."}
 */
export interface DbErrorHandlerOptions {
  /**
   * Where the one-line notice for an aborted request goes (`logger.info(line)`): a pino logger,
   * `console`, or anything with an `info(message)`. Default: none, the request ends silently.
   */
  readonly logger?: { readonly info: (message: string) => void };
}

/** How deep an application may wrap an abort's error in its own (`cause`) and still be recognised. */
const MAX_CAUSE_DEPTH = 5;

/**
 * An Express error handler, mounted after the routes, for requests whose client went away:
 * their statement failed because dbMiddleware aborted the session (ECANCELLED, or
 * ESESSION_RELEASED for a statement after the abort). Such a request ends here, with at most a
 * one-line notice through `options.logger`: nobody is left to answer, and Express's final
 * handler would print a stack trace for each. Every other error is passed on with `next(err)`,
 * an ECANCELLED from the application's own AbortSignal included.
 *
 * @example
 * app.use(dbMiddleware(db));
 * app.get('/report', async (req, res) => { res.json((await req.db.query('SELECT SLEEP(5)'))[0]); });
 * app.use(dbErrorHandler({ logger: console }));  // "GET /report: the client went away; its statement was cancelled (ECANCELLED)"
 * app.use(myErrorHandler);                        // still gets every other error
 */
export function dbErrorHandler(options: DbErrorHandlerOptions = {}): ErrorRequestHandler {
  const { logger } = options;
  // Four parameters: Express tells an error handler by its arity.
  return (err, req, _res, next) => {
    const code = wasAborted(req) ? abortCode(err) : undefined;
    if (code === undefined) {
      next(err);
      return;
    }
    logger?.info(`${describeRequest(req)}: the client went away; its statement was cancelled (${code})`);
  };
}

/** ECANCELLED or ESESSION_RELEASED when `err` (or what it wraps) is one; undefined otherwise. */
function abortCode(err: unknown): string | undefined {
  let current = err;
  for (let depth = 0; depth <= MAX_CAUSE_DEPTH && current !== undefined && current !== null; depth++) {
    if (isDbSwitchError(current, 'ECANCELLED') || isDbSwitchError(current, 'ESESSION_RELEASED')) return current.code;
    current = current instanceof Error ? current.cause : undefined;
  }
  return undefined;
}
