// dbswitch/express with a fake session source, in process: when a session is released or
// aborted, and which errors dbErrorHandler ends and which it passes on. (The real thing, over
// basic and ssh with the published package, is express.test.ts.)
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import type { DbSession } from '../../src/db-session.js';
import { DbSwitchError } from '../../src/errors.js';
import { dbErrorHandler, dbMiddleware, type SessionSource } from '../../src/integrations/express/index.js';
import { eventually } from '../support/test-db.js';

/** A session that records how it ended; its statements wait until it ends (or answer at once). */
class FakeSession {
  readonly ends: string[] = [];
  abortReason: unknown;
  #ended: ((err: DbSwitchError) => void)[] = [];

  /** Never answers by itself: settles with ECANCELLED on abort, ESESSION_RELEASED on release. */
  query(): Promise<never> {
    if (this.ends.length > 0) return Promise.reject(new DbSwitchError('ESESSION_RELEASED', 'released'));
    return new Promise<never>((_resolve, reject) => this.#ended.push(reject));
  }

  release(): Promise<void> {
    this.#end('release', new DbSwitchError('ESESSION_RELEASED', 'released while running'));
    return Promise.resolve();
  }

  abort(reason?: unknown): Promise<void> {
    this.abortReason = reason;
    this.#end('abort', new DbSwitchError('ECANCELLED', 'cancelled', { cause: reason }));
    return Promise.resolve();
  }

  #end(how: string, err: DbSwitchError): void {
    this.ends.push(how);
    for (const reject of this.#ended.splice(0)) reject(err);
  }
}

/** Hands out FakeSessions (or fails as told) and keeps them. */
class FakeSource implements SessionSource {
  readonly sessions: FakeSession[] = [];
  failure: Error | undefined;

  session(): Promise<DbSession> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const session = new FakeSession();
    this.sessions.push(session);
    return Promise.resolve(session as unknown as DbSession);
  }
}

const servers = new Set<http.Server>();
afterEach(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  servers.clear();
});

/** `app` on an ephemeral port of 127.0.0.1; returns the port. */
async function listen(app: Express): Promise<number> {
  const server = http.createServer(app);
  servers.add(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** GET `path`; with `abortAfterMs`, the client closes the connection after that long. */
function get(port: number, path: string, abortAfterMs?: number): Promise<{ status: number | undefined; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => {
        resolve({ status: response.statusCode, body, headers: response.headers });
      });
    });
    request.on('error', () => {
      resolve({ status: undefined, body: '', headers: {} });
    });
    if (abortAfterMs !== undefined) setTimeout(() => request.destroy(), abortAfterMs);
  });
}

/** An app: dbMiddleware over `source`, `routes`, dbErrorHandler with a captured logger, and a last error handler that records. */
function app(source: SessionSource, routes: (app: Express) => void, before?: express.RequestHandler): { app: Express; notices: string[]; passedOn: unknown[] } {
  const notices: string[] = [];
  const passedOn: unknown[] = [];
  const application = express();
  if (before !== undefined) application.use(before);
  application.use(dbMiddleware(source));
  routes(application);
  application.use(dbErrorHandler({ logger: { info: (line) => notices.push(line) } }));
  const last: ErrorRequestHandler = (err, _req, res, _next) => {
    passedOn.push(err);
    if (!res.headersSent) res.status(500).send('failed');
  };
  application.use(last);
  return { app: application, notices, passedOn };
}

describe('dbMiddleware', () => {
  it('gives each request its own session on req.db and releases it once, when the response is done', async () => {
    const source = new FakeSource();
    const seen: unknown[] = [];
    const { app: application } = app(source, (a) =>
      a.get('/ok', (req, res) => {
        seen.push(req.db);
        res.send('ok');
      }),
    );
    const port = await listen(application);
    expect((await get(port, '/ok')).body).toBe('ok');
    expect((await get(port, '/ok')).body).toBe('ok');
    expect(await eventually(() => Promise.resolve(source.sessions.every((s) => s.ends.length > 0)), 1000)).toBe(true);
    expect(source.sessions.map((s) => s.ends)).toEqual([['release'], ['release']]);
    expect(seen).toEqual(source.sessions);
  });

  // Regression (bench/express.js, 0.85x of a raw pool at concurrency 50): released at 'finish',
  // an event-loop turn after res.end(), each connection was held several times as long as its
  // statement under load.
  it('releases the session when the handler ends the response (res.end), before the response has even finished', async () => {
    const source = new FakeSource();
    const atEnd: string[][] = [];
    const { app: application } = app(source, (a) =>
      a.get('/ok', (req, res) => {
        res.once('finish', () => atEnd.push([...source.sessions[0]!.ends]));
        res.json({ ok: true });
        atEnd.push([...source.sessions[0]!.ends]);
        // A second end() (a bug of the app's, or a late res.end in an error path) ends nothing twice.
        res.end();
      }),
    );
    const port = await listen(application);
    expect((await get(port, '/ok')).body).toBe('{"ok":true}');
    expect(atEnd).toEqual([['release'], ['release']]);
    expect(source.sessions[0]!.ends).toEqual(['release']);
  });

  it("aborts the session when the client leaves first: the handler's pending statement rejects with ECANCELLED, and dbErrorHandler ends the request with one notice", async () => {
    const source = new FakeSource();
    const { app: application, notices, passedOn } = app(source, (a) =>
      a.get('/slow/:id', async (req, res) => {
        res.json(await req.db.query('SELECT SLEEP(10)'));
      }),
    );
    const port = await listen(application);
    const reply = await get(port, '/slow/7?token=secret', 50);
    expect(reply.status).toBeUndefined();
    expect(await eventually(() => Promise.resolve(notices.length > 0), 1000)).toBe(true);
    const [session] = source.sessions;
    expect(session?.ends).toEqual(['abort']);
    expect(String(session?.abortReason)).toContain('the client closed the connection before the response to GET /slow/7 was complete');
    expect(notices).toEqual(['GET /slow/7: the client went away; its statement was cancelled (ECANCELLED)']);
    expect(passedOn).toEqual([]);
  });

  it('aborts at once when the client had left before it ran (an earlier middleware took its time); a statement then fails with ESESSION_RELEASED, quietly', async () => {
    const source = new FakeSource();
    let handled = false;
    const slowAuth: express.RequestHandler = (_req, _res, next) => {
      setTimeout(next, 150);
    };
    const { app: application, notices, passedOn } = app(
      source,
      (a) =>
        a.get('/late', async (req, res) => {
          handled = true;
          res.json(await req.db.query('SELECT SLEEP(10)'));
        }),
      slowAuth,
    );
    const port = await listen(application);
    await get(port, '/late', 30);
    expect(await eventually(() => Promise.resolve(notices.length > 0), 1000)).toBe(true);
    expect(handled).toBe(true);
    expect(source.sessions.map((s) => s.ends)).toEqual([['abort']]);
    expect(notices).toEqual(['GET /late: the client went away; its statement was cancelled (ESESSION_RELEASED)']);
    expect(passedOn).toEqual([]);
  });

  it('answers 503 with Connection: close once the Db is closed (ECLOSED), so keep-alive clients let the server finish closing', async () => {
    const source = new FakeSource();
    source.failure = new DbSwitchError('ECLOSED', 'closed');
    const { app: application, passedOn } = app(source, (a) => a.get('/ok', (_req, res) => res.send('ok')));
    const port = await listen(application);
    const reply = await get(port, '/ok');
    expect([reply.status, reply.headers.connection]).toEqual([503, 'close']);
    expect(passedOn).toEqual([]);
  });

  it('passes any other failure to get a session on to the error handlers', async () => {
    const source = new FakeSource();
    const failure = new Error('boom');
    source.failure = failure;
    const { app: application, passedOn } = app(source, (a) => a.get('/ok', (_req, res) => res.send('ok')));
    const port = await listen(application);
    expect((await get(port, '/ok')).status).toBe(500);
    expect(passedOn).toEqual([failure]);
  });
});

describe('dbErrorHandler', () => {
  it('passes on every error of a request whose client is still there, an ECANCELLED of its own included', async () => {
    const source = new FakeSource();
    const cancelled = new DbSwitchError('ECANCELLED', 'its own AbortSignal');
    const sqlError = Object.assign(new Error("Table 'no_such_table' doesn't exist"), { code: 'ER_NO_SUCH_TABLE' });
    const { app: application, notices, passedOn } = app(source, (a) => {
      a.get('/cancelled', () => {
        throw cancelled;
      });
      a.get('/sql', () => {
        throw sqlError;
      });
    });
    const port = await listen(application);
    expect((await get(port, '/cancelled')).status).toBe(500);
    expect((await get(port, '/sql')).status).toBe(500);
    expect(passedOn).toEqual([cancelled, sqlError]);
    expect(notices).toEqual([]);
  });

  it("passes on an aborted request's other errors, and recognises an abort's error the application wrapped", async () => {
    const source = new FakeSource();
    const other = new Error('not a database abort');
    const { app: application, notices, passedOn } = app(source, (a) => {
      a.get('/other', async (req) => {
        await req.db.query('SELECT SLEEP(10)').catch(() => undefined);
        throw other;
      });
      a.get('/wrapped', async (req) => {
        try {
          await req.db.query('SELECT SLEEP(10)');
        } catch (err) {
          throw new Error('loading the report failed', { cause: err });
        }
      });
    });
    const port = await listen(application);
    await get(port, '/other', 30);
    await get(port, '/wrapped', 30);
    expect(await eventually(() => Promise.resolve(passedOn.length + notices.length === 2), 1000)).toBe(true);
    expect(passedOn).toEqual([other]);
    expect(notices).toEqual(['GET /wrapped: the client went away; its statement was cancelled (ECANCELLED)']);
  });

  it('is an error handler to Express (four parameters), and works without a logger', () => {
    expect(dbErrorHandler()).toHaveLength(4);
    expect(dbMiddleware(new FakeSource())).toHaveLength(3);
  });
});
