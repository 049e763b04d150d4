import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import { Db } from '../../db/db.js';
import type { DbSession } from '../../db-session.js';
import { DbSwitchError } from '../../errors.js';
import { ResponseDrain } from './response-drain.js';

const logger = new Logger('DbModule');

/** The reason an aborted request's session is given up with (the `cause` of the ECANCELLED its statement gets). */
class ClientClosedRequest extends Error {
  override readonly name = 'ClientClosedRequest';

  constructor() {
    super('the client closed the connection before the response was sent');
  }
}

/**
 * A request's life as its session sees it: open (with the session, once something injected it),
 * then over, either answered or abandoned by the client.
 */
type RequestPhase =
  | { readonly name: 'open'; readonly session: Promise<DbSession> | undefined }
  | { readonly name: 'answered' }
  | { readonly name: 'aborted'; readonly reason: ClientClosedRequest };

/**
 * The owner of one HTTP request's DbSession. Nest's request scope has no disposer
 * (nestjs/nest#9497), so the request itself is watched: its session is released when the
 * response has been sent, and aborted (a running statement killed on the server) when the client
 * goes away first. The session is made only when something injects it; a request that never asks
 * borrows nothing and has nothing to release.
 */
export class RequestSession {
  readonly #db: Db;
  #phase: RequestPhase = { name: 'open', session: undefined };

  constructor(db: Db, req: IncomingMessage, res: ServerResponse) {
    this.#db = db;
    if (res.writableFinished) {
      this.#phase = { name: 'answered' };
    } else if (req.socket.destroyed) {
      this.#phase = { name: 'aborted', reason: new ClientClosedRequest() };
    } else {
      // 'close' comes after 'finish' for an answered request, and alone when the connection
      // dropped first.
      res.once('close', () => {
        this.#end(res.writableFinished ? undefined : new ClientClosedRequest());
      });
    }
  }

  /** True when the client went away before the response was sent. */
  get aborted(): boolean {
    return this.#phase.name === 'aborted';
  }

  /**
   * The request's session, made on the first call. After the request is over, a session that is
   * already given up (its statements fail with ESESSION_RELEASED).
   */
  session(): Promise<DbSession> {
    const phase = this.#phase;
    switch (phase.name) {
      case 'open': {
        if (phase.session !== undefined) return phase.session;
        const session = this.#db.session();
        this.#phase = { name: 'open', session };
        return session;
      }
      case 'answered':
        return this.#db.session().then(async (session) => {
          await session.release();
          return session;
        });
      case 'aborted':
        return this.#db.session().then(async (session) => {
          await session.abort(phase.reason);
          return session;
        });
    }
  }

  #end(abort: ClientClosedRequest | undefined): void {
    const phase = this.#phase;
    if (phase.name !== 'open') return;
    this.#phase = abort === undefined ? { name: 'answered' } : { name: 'aborted', reason: abort };
    // Nothing injected the session: nothing was borrowed, nothing to give back.
    if (phase.session === undefined) return;
    void phase.session.then(
      (session) =>
        (abort === undefined ? session.release() : session.abort(abort)).catch((err: unknown) => {
          logger.error(`giving back the request's DbSession failed: ${err instanceof Error ? err.message : String(err)}`);
        }),
      // db.session() itself failed (ECLOSED during shutdown): the request heard it from the
      // injector, and no connection was lent.
      () => undefined,
    );
  }
}

/** Each request's session owner, by the request Node's HTTP server made (Express's req, Fastify's req.raw). */
const requests = new WeakMap<IncomingMessage, RequestSession>();

/** The session owner of `req`, made now if the middleware did not see the request. */
export function requestSession(db: Db, request: unknown): RequestSession {
  const req = incomingMessage(request);
  const known = req === undefined ? undefined : requests.get(req);
  if (known !== undefined) return known;
  // A route the middleware does not cover: Express links the response to the request.
  const res = (req as { res?: unknown } | undefined)?.res;
  if (req === undefined || !isServerResponse(res)) {
    throw new DbSwitchError(
      'EUSAGE',
      'DB_SESSION is a session per HTTP request; this context has no HTTP request (a microservice, a gateway, a cron job). Inject Db and use db.withSession() there.',
    );
  }
  return watch(db, req, res);
}

/** The session owner of `request` if it has one (for the exception filter). */
export function knownRequestSession(request: unknown): RequestSession | undefined {
  const req = incomingMessage(request);
  return req === undefined ? undefined : requests.get(req);
}

function watch(db: Db, req: IncomingMessage, res: ServerResponse): RequestSession {
  const owner = new RequestSession(db, req, res);
  requests.set(req, owner);
  return owner;
}

/** Express's request is Node's IncomingMessage; Fastify's wraps it as `raw`. */
function incomingMessage(request: unknown): IncomingMessage | undefined {
  if (isIncomingMessage(request)) return request;
  const raw = (request as { raw?: unknown } | null | undefined)?.raw;
  return isIncomingMessage(raw) ? raw : undefined;
}

function isIncomingMessage(value: unknown): value is IncomingMessage {
  return typeof value === 'object' && value !== null && 'socket' in value && 'headers' in value && typeof (value as { on?: unknown }).on === 'function';
}

function isServerResponse(value: unknown): value is ServerResponse {
  return typeof value === 'object' && value !== null && 'writableFinished' in value && typeof (value as { once?: unknown }).once === 'function';
}

/**
 * Watches every request from its start (before guards and interceptors run), so its session is
 * given back however the request ends, also when the client left before anything injected it;
 * and its response, for a prompt shutdown. Applied by DbModule to every route.
 */
@Injectable()
export class DbSessionMiddleware implements NestMiddleware<IncomingMessage, ServerResponse> {
  readonly #db: Db;
  readonly #drain: ResponseDrain;

  constructor(@Inject(Db) db: Db, @Inject(ResponseDrain) drain: ResponseDrain) {
    this.#db = db;
    this.#drain = drain;
  }

  use(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void {
    if (!requests.has(req)) {
      watch(this.#db, req, res);
      this.#drain.track(res);
    }
    next();
  }
}
