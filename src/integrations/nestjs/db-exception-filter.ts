import type { IncomingMessage } from 'node:http';
import { Catch, Inject, Injectable, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { BaseExceptionFilter, HttpAdapterHost } from '@nestjs/core';
import { isDbSwitchError, type DbSwitchError } from '../../errors.js';
import { knownRequestSession } from './request-session.js';

const logger = new Logger('DbModule');

/**
 * What `@Catch` matches (Nest matches an error to a filter with `instanceof`): the two errors a
 * statement ends with when its session was given up (ECANCELLED: it was running;
 * ESESSION_RELEASED: it came after). Every other error never reaches this filter, so Nest (or a
 * filter of the application) handles it as before.
 */
// eslint-disable-next-line @typescript-eslint/no-extraneous-class -- a class only for instanceof
abstract class GivenUpStatement {
  static [Symbol.hasInstance](value: unknown): boolean {
    return isDbSwitchError(value, 'ECANCELLED') || isDbSwitchError(value, 'ESESSION_RELEASED');
  }
}

/**
 * Keeps requests the client abandoned out of the error log. When the client closes the
 * connection, the request's DbSession is aborted, so the handler's statement rejects with
 * ECANCELLED (or a later one with ESESSION_RELEASED); nobody is left to answer, so this filter
 * writes one debug line and sends nothing. The same errors in a request the client did not
 * abandon go to Nest's own handling (a 500, logged). DbModule registers it for the whole
 * application (APP_FILTER); outside HTTP it returns nothing, which microservices and GraphQL
 * take as "not handled" (a WebSocket gateway takes it as handled: these two codes are not sent
 * to its client).
 *
 * @example
 * // Registered by DbModule; to order it among filters of your own, register it yourself too:
 * app.useGlobalFilters(app.get(DbExceptionFilter));
 */
@Catch(GivenUpStatement)
@Injectable()
export class DbExceptionFilter implements ExceptionFilter<DbSwitchError> {
  readonly #adapterHost: HttpAdapterHost;
  #nest: BaseExceptionFilter | undefined;

  constructor(@Inject(HttpAdapterHost) adapterHost: HttpAdapterHost) {
    this.#adapterHost = adapterHost;
  }

  catch(error: DbSwitchError, host: ArgumentsHost): void {
    // RPC and GraphQL handle the error as Nest does when a filter returns nothing.
    if (host.getType() !== 'http') return;
    const req: unknown = host.switchToHttp().getRequest();
    if (knownRequestSession(req)?.aborted === true) {
      logger.debug(`${describe(req)}: the client closed the request; its database session was given up (${error.code})`);
      return;
    }
    this.#nest ??= new BaseExceptionFilter(this.#adapterHost.httpAdapter);
    this.#nest.catch(error, host);
  }
}

/** "GET /path" for the notice, without the query string (it may carry a token). */
function describe(request: unknown): string {
  const req = request as Partial<IncomingMessage> & { raw?: Partial<IncomingMessage>; originalUrl?: string };
  const method = req.method ?? req.raw?.method ?? 'HTTP';
  const url = req.originalUrl ?? req.url ?? req.raw?.url ?? '';
  return `${method} ${url.split('?')[0] ?? ''}`;
}
