// dbswitch/nestjs in a real NestJS 11 application: compiled as a user's CommonJS project against
// the packed package, run with node on 127.0.0.1, against the test bed's MariaDB, directly and
// through the bastion.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBastion } from '../support/bastion.js';
import { consumerProject } from '../support/consumer-project.js';
import { faultEnv, PROVIDERS, runningStatements, sharedServer, useFaultLogin, waitForStatements } from '../support/faults.js';
import { compileNestProject, get, load, NEST_TSCONFIG, sampleServer, startNestApp, stats, type NestApp, type Reply } from '../support/nestjs-harness.js';
import { eventually } from '../support/test-db.js';

const APP_SOURCE = readFileSync(fileURLToPath(new URL('../support/nestjs-app.ts', import.meta.url)), 'utf8');
const POOL_MAX = 10;

const logins = { basic: useFaultLogin('nest_basic', () => sharedServer), ssh: useFaultLogin('nest_ssh', () => sharedServer) };
const bastion = useBastion();

let script = '';
beforeAll(async () => {
  const consumer = await consumerProject();
  const dir = await compileNestProject(consumer, 'nestjs-app', NEST_TSCONFIG, { 'src/main.ts': APP_SOURCE });
  script = join(dir, 'dist/main.js');
}, 300_000);

const apps = new Set<NestApp>();
afterAll(async () => {
  await Promise.all([...apps].map((app) => app.kill()));
});

async function start(env: Record<string, string>): Promise<NestApp> {
  const app = await startNestApp(script, env);
  apps.add(app);
  return app;
}

const count = (replies: readonly Reply[], check: (reply: Reply) => boolean): number => replies.filter(check).length;

describe.each(PROVIDERS)('a NestJS application over %s', (provider) => {
  const login = logins[provider];
  let app: NestApp;
  beforeAll(async () => {
    app = await start(faultEnv(provider, sharedServer, login, bastion, { DB_POOL_MAX: String(POOL_MAX), DB_LOG_LEVEL: 'info' }));
  });

  it('gives each request a session of its own, shared by everything that request injects', async () => {
    const [a, b] = await Promise.all([get(app.port, '/conn?ms=300'), get(app.port, '/conn?ms=300')]);
    expect(a).toMatchObject({ kind: 'answered', status: 200 });
    expect(b).toMatchObject({ kind: 'answered', status: 200 });
    const ids = [a, b].map((reply) => (reply.kind === 'answered' ? (JSON.parse(reply.body) as { id: number }).id : 0));
    expect(ids[0]).not.toBe(ids[1]);
    const same = await get(app.port, '/same');
    expect(same.kind === 'answered' ? JSON.parse(same.body) : same).toMatchObject({ sameObject: true });
    const { controller, service } = same.kind === 'answered' ? (JSON.parse(same.body) as { controller: number; service: number }) : { controller: 0, service: 1 };
    expect(service).toBe(controller);
  });

  it('serves 2,000 requests at concurrency 50, 10 % aborted mid-statement: sessions released once, statements killed, no error logged', async () => {
    const before = await stats(app.port);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
    const sampler = sampleServer(login.user, 'SELECT SLEEP(1)');
    const started = Date.now();
    const replies = await load(2000, 50, (i) => (i % 10 === 5 ? get(app.port, `/sleep?id=${i}`, { agent, abortAfterMs: 100 }) : get(app.port, '/quick', { agent })));
    const elapsedMs = Date.now() - started;
    agent.destroy();
    // The last aborted sessions are given back once the server has stopped their statements.
    await eventually(async () => (await stats(app.port)).pool.leased === 0, 3000);
    const server = await sampler.stop();
    const after = await stats(app.port);
    const stillRunning = await eventually(async () => (await runningStatements(sharedServer, login.user)).length === 0, 1000);
    // How long each aborted statement still ran on the server after its abort: after the client
    // closed the connection, and after the application heard of it and aborted the session.
    let afterClientMs = 0;
    let afterSessionMs = 0;
    for (const sighting of server.sightings) {
      const id = Number(/\/\* sleep (\d+) \*\//.exec(sighting.info)?.[1]);
      const reply = replies[id];
      if (reply?.kind === 'aborted') afterClientMs = Math.max(afterClientMs, sighting.at - reply.at);
      const aborted = after.abortedAt[String(id)];
      if (aborted !== undefined) afterSessionMs = Math.max(afterSessionMs, sighting.at - aborted);
    }
    console.log(
      `[nestjs] ${provider}: 2000 requests in ${elapsedMs} ms; received ${JSON.stringify(after.received)}; sessions ${JSON.stringify(after.sessions)}; sleeps ${JSON.stringify(after.sleeps)}; ` +
        `server: most ${server.mostConnections} connections, SLEEP(1) seen ${server.sightings.length} times in ${server.samples} samples, at most ${afterClientMs} ms after the client left, ${afterSessionMs} ms after the session's abort`,
    );

    const quick = replies.filter((_, i) => i % 10 !== 5);
    const sleeps = replies.filter((_, i) => i % 10 === 5);
    expect(count(quick, (reply) => reply.kind === 'answered' && reply.status === 200 && reply.body === '{"x":1}')).toBe(1800);
    expect(count(sleeps, (reply) => reply.kind === 'aborted')).toBe(200);
    // A request the client dropped before the server read it never reached Nest: no session for it.
    const receivedQuick = (after.received['/quick'] ?? 0) - (before.received['/quick'] ?? 0);
    const receivedSleeps = (after.received['/sleep'] ?? 0) - (before.received['/sleep'] ?? 0);
    expect(receivedQuick).toBe(1800);
    expect(receivedSleeps).toBeGreaterThan(150);
    // Every request made one session, ended once: released when answered, aborted when the client left.
    const made = after.sessions.created - before.sessions.created;
    expect(made).toBe(receivedQuick + receivedSleeps);
    expect(after.sessions.endedOnce - before.sessions.endedOnce).toBe(made);
    expect(after.sessions.endedAgain).toBe(0);
    expect(after.sessions.released - before.sessions.released).toBe(1800);
    expect(after.sessions.aborted - before.sessions.aborted).toBe(receivedSleeps);
    // Each aborted handler heard of it (no SLEEP(1) ran to its end), and the server stopped it: no
    // statement still ran 1 s after the client left; once the application knew (the response's
    // 'close', which a busy event loop may see late), the kill took well under the second SLEEP(1)
    // would have run on its own. Nothing runs afterwards.
    expect(after.sleeps['ok'] ?? 0).toBe(0);
    expect((after.sleeps['ECANCELLED'] ?? 0) + (after.sleeps['ESESSION_RELEASED'] ?? 0)).toBe(receivedSleeps);
    expect(server.sightings.length).toBeGreaterThan(0);
    expect(afterClientMs).toBeLessThan(1000);
    expect(afterSessionMs).toBeLessThan(750);
    expect(stillRunning).toBe(true);
    expect(server.mostConnections).toBeLessThanOrEqual(POOL_MAX + 1);
    expect(after.pool).toMatchObject({ leased: 0, waiting: 0 });
    // No error for an abort: nothing on stderr (Nest's errors, dbswitch's warnings), at most one notice each.
    expect(app.stderr()).toBe('');
    expect(app.stdout()).not.toMatch(/ERROR|WARN/);
    expect(app.stdout().match(/the client closed the request/g)?.length ?? 0).toBeLessThanOrEqual(receivedSleeps);
  }, 60_000);

  it('on SIGTERM under load, finishes the requests in flight, closes the Db and exits 0', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 30 });
    const inFlight = Array.from({ length: 30 }, () => get(app.port, '/work?ms=400', { agent }));
    // Every request reached its handler: the pool is busy (each connection runs a statement)
    // and the rest wait for a connection.
    expect(await eventually(async () => (await stats(app.port)).working === 30, 5000)).toBe(true);
    await waitForStatements(sharedServer, login.user, 'SELECT SLEEP', POOL_MAX);
    const signalled = Date.now();
    app.signal('SIGTERM');
    const replies = await Promise.all(inFlight);
    // The client keeps its idle keep-alive connections open, as a load balancer would.
    const exit = await Promise.race([app.exited, new Promise<'running'>((resolve) => setTimeout(resolve, 10_000, 'running'))]);
    agent.destroy();
    console.log(`[nestjs] ${provider}: SIGTERM with 30 requests in flight: exit ${JSON.stringify(exit)} after ${exit === 'running' ? '>10000' : exit.at - signalled} ms`);
    expect(replies.filter((reply) => reply.kind !== 'answered' || reply.status !== 200)).toEqual([]);
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit !== 'running' && exit.at - signalled).toBeLessThan(10_000);
    // The Db was closed: the server holds no connection of the application any more.
    expect(await eventually(async () => (await runningStatements(sharedServer, login.user)).length === 0 && (await sharedServer.admin<unknown[]>('SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?', [login.user])).length === 0, 2000)).toBe(true);
    expect(app.stderr()).toBe('');
  }, 30_000);
});

describe('a NestJS application with DB_POOL_MAX=1', () => {
  const login = logins.basic;
  let app: NestApp;
  beforeAll(async () => {
    app = await start(faultEnv('basic', sharedServer, login, bastion, { DB_POOL_MAX: '1', DB_POOL_ACQUIRE_TIMEOUT_MS: '2000', DB_LOG_LEVEL: 'info' }));
  });

  it('releases the session when a guard throws after a query: the next requests get the one connection', async () => {
    for (let i = 0; i < 5; i++) expect(await get(app.port, '/guarded')).toMatchObject({ kind: 'answered', status: 403 });
    expect(await get(app.port, '/quick')).toMatchObject({ kind: 'answered', status: 200, body: '{"x":1}' });
    const after = await stats(app.port);
    expect(after.pool).toMatchObject({ leased: 0, waiting: 0 });
    expect(after.sessions.endedOnce).toBe(after.sessions.created);
  });

  it('releases the session when an interceptor throws after the handler', async () => {
    for (let i = 0; i < 5; i++) expect(await get(app.port, '/intercepted')).toMatchObject({ kind: 'answered', status: 503 });
    expect(await get(app.port, '/quick')).toMatchObject({ kind: 'answered', status: 200 });
    const after = await stats(app.port);
    expect(after.pool).toMatchObject({ leased: 0, waiting: 0 });
    expect(after.sessions.endedOnce).toBe(after.sessions.created);
  });

  it('borrows nothing for a request that injects no session, or never uses it', async () => {
    const before = await stats(app.port);
    for (let i = 0; i < 5; i++) await stats(app.port);
    expect((await stats(app.port)).sessions.created).toBe(before.sessions.created);
    expect(await get(app.port, '/idle')).toMatchObject({ kind: 'answered', status: 200 });
    const after = await stats(app.port);
    // The controller was given a session; it never borrowed, and was released all the same.
    expect(after.sessions.created).toBe(before.sessions.created + 1);
    expect(after.sessions.endedOnce).toBe(after.sessions.created);
    expect(after.pool).toMatchObject({ leased: 0, open: before.pool.open });
  });

  it('handles every other error as Nest does: the application\'s own cancel and an SQL error are 500s, logged', async () => {
    expect(await get(app.port, '/own-cancel')).toMatchObject({ kind: 'answered', status: 500 });
    expect(await get(app.port, '/sql-error')).toMatchObject({ kind: 'answered', status: 500 });
    expect(await get(app.port, '/quick')).toMatchObject({ kind: 'answered', status: 200 });
    await eventually(() => Promise.resolve(/ER_PARSE_ERROR|SQL syntax/.test(app.stderr())), 1000);
    expect(app.stderr()).toMatch(/ExceptionsHandler.*\n?.*ECANCELLED|DbSwitchError/);
    expect(app.stderr()).toMatch(/SQL syntax/);
    expect((await stats(app.port)).pool).toMatchObject({ leased: 0 });
  });
});
