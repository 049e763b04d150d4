// The per-request session owner of dbswitch/nestjs with fakes: the orders of events the
// application test cannot force (the client gone before anything injected the session, the
// response sent before it, a Db already closed).
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/db.js';
import type { DbSession } from '../../src/db-session.js';
import { DbSwitchError, isDbSwitchError } from '../../src/errors.js';
import { DbSessionMiddleware, knownRequestSession, requestSession } from '../../src/integrations/nestjs/request-session.js';
import { ResponseDrain } from '../../src/integrations/nestjs/response-drain.js';

/** A session that records how it was ended. */
class FakeSession {
  readonly ends: { how: 'release' | 'abort'; reason?: unknown }[] = [];
  release(): Promise<void> {
    this.ends.push({ how: 'release' });
    return Promise.resolve();
  }
  abort(reason?: unknown): Promise<void> {
    this.ends.push({ how: 'abort', reason });
    return Promise.resolve();
  }
}

function fakeDb(fail?: DbSwitchError): { db: Db; sessions: FakeSession[] } {
  const sessions: FakeSession[] = [];
  const db = {
    session: (): Promise<DbSession> => {
      if (fail !== undefined) return Promise.reject(fail);
      const session = new FakeSession();
      sessions.push(session);
      return Promise.resolve(session as unknown as DbSession);
    },
  };
  return { db: db as unknown as Db, sessions };
}

/** Node's request and response, as far as the owner looks at them. */
function exchange(): { req: IncomingMessage; res: ServerResponse & EventEmitter; finish: () => void; drop: () => void } {
  const socket = { destroyed: false };
  const req = Object.assign(new EventEmitter(), { socket, headers: {} }) as unknown as IncomingMessage;
  const headers = new Map<string, string>();
  const res = Object.assign(new EventEmitter(), {
    writableFinished: false,
    headersSent: false,
    setHeader: (name: string, value: string) => headers.set(name.toLowerCase(), value),
    getHeader: (name: string) => headers.get(name.toLowerCase()),
  }) as unknown as ServerResponse & EventEmitter & { writableFinished: boolean };
  Object.assign(req, { res });
  return {
    req,
    res,
    finish: () => {
      Object.assign(res, { writableFinished: true, headersSent: true });
      res.emit('finish');
      res.emit('close');
    },
    drop: () => {
      socket.destroyed = true;
      res.emit('close');
    },
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function middleware(db: Db, drain = new ResponseDrain()): DbSessionMiddleware {
  return new DbSessionMiddleware(db, drain);
}

describe('the session of one HTTP request', () => {
  it('is not made when nothing injects it: nothing borrowed, nothing to release', async () => {
    const { db, sessions } = fakeDb();
    const { req, res, finish } = exchange();
    middleware(db).use(req, res, () => undefined);
    finish();
    await tick();
    expect(sessions).toEqual([]);
  });

  it('is one per request however often it is injected, released once when the response is sent', async () => {
    const { db, sessions } = fakeDb();
    const { req, res, finish } = exchange();
    middleware(db).use(req, res, () => undefined);
    const [a, b] = await Promise.all([requestSession(db, req).session(), requestSession(db, req).session()]);
    expect(a).toBe(b);
    finish();
    res.emit('close');
    await tick();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]?.ends).toEqual([{ how: 'release' }]);
  });

  it('is aborted once when the client leaves before the response, with a reason naming that', async () => {
    const { db, sessions } = fakeDb();
    const { req, res, drop } = exchange();
    middleware(db).use(req, res, () => undefined);
    await requestSession(db, req).session();
    drop();
    await tick();
    expect(sessions[0]?.ends.map((end) => end.how)).toEqual(['abort']);
    const reason = sessions[0]?.ends[0]?.reason;
    expect(reason instanceof Error && reason.message).toMatch(/client closed/);
    expect(knownRequestSession(req)?.aborted).toBe(true);
  });

  it('is born given up when the client left before anything injected it (its statements fail)', async () => {
    const { db, sessions } = fakeDb();
    const { req, res, drop } = exchange();
    middleware(db).use(req, res, () => undefined);
    drop();
    await requestSession(db, req).session();
    expect(sessions[0]?.ends.map((end) => end.how)).toEqual(['abort']);
  });

  it('is born released when the response was already sent', async () => {
    const { db, sessions } = fakeDb();
    const { req, res, finish } = exchange();
    middleware(db).use(req, res, () => undefined);
    finish();
    await requestSession(db, req).session();
    expect(sessions[0]?.ends.map((end) => end.how)).toEqual(['release']);
  });

  it('is watched from the injection when no middleware saw the request (Express links req.res)', async () => {
    const { db, sessions } = fakeDb();
    const { req, drop } = exchange();
    await requestSession(db, req).session();
    drop();
    await tick();
    expect(sessions[0]?.ends.map((end) => end.how)).toEqual(['abort']);
  });

  it("is found from Fastify's request through its raw IncomingMessage", () => {
    const { db } = fakeDb();
    const { req, res } = exchange();
    middleware(db).use(req, res, () => undefined);
    expect(requestSession(db, { raw: req })).toBe(knownRequestSession(req));
  });

  it('leaves nothing to release, and no unhandled rejection, when the Db is closed', async () => {
    const { db } = fakeDb(new DbSwitchError('ECLOSED', 'closed'));
    const { req, res, finish } = exchange();
    middleware(db).use(req, res, () => undefined);
    const error = await requestSession(db, req).session().catch((err: unknown) => err);
    expect(isDbSwitchError(error, 'ECLOSED')).toBe(true);
    finish();
    await tick();
  });

  it('is refused outside an HTTP request, naming what to use instead', () => {
    const { db } = fakeDb();
    expect(() => requestSession(db, { pattern: 'orders.created' })).toThrow(/EUSAGE|withSession/);
  });
});

describe('a shutdown', () => {
  it('asks each connection to close after its response in flight, and after any later one', () => {
    const { db } = fakeDb();
    const drain = new ResponseDrain();
    const before = exchange();
    middleware(db, drain).use(before.req, before.res, () => undefined);
    drain.drain();
    const after = exchange();
    middleware(db, drain).use(after.req, after.res, () => undefined);
    expect(before.res.getHeader('connection')).toBe('close');
    expect(after.res.getHeader('connection')).toBe('close');
  });
});
