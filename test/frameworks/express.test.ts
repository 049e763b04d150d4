// dbswitch/express as a user runs it: an Express 5 application compiled in a project of its own
// against the published package, listening on 127.0.0.1 in a child process, over basic and ssh;
// and examples/express, run as its README says, over basic, ssh and aws (RDS IAM, as root).
import http from 'node:http';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useBastion } from '../support/bastion.js';
import { consumerProject } from '../support/consumer-project.js';
import { compileApp, get, load, startApp, tally, type AppProcess } from '../support/express-load.js';
import { PROVIDERS, faultEnv, processlist, runningStatements, sharedServer, sleep, useFaultLogin, type FaultServer, type ProcessRow } from '../support/faults.js';
import { AS_ROOT, ORM_PROVIDERS, ormEnv, useIamServer, type OrmProvider } from '../support/orm-kdk-harness.js';
import { eventually } from '../support/test-db.js';

const APP = fileURLToPath(new URL('../support/express-app.ts', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../examples/express/app.ts', import.meta.url));
const EXAMPLE_TSCONFIG = fileURLToPath(new URL('../../examples/express/tsconfig.json', import.meta.url));

const POOL_MAX = 10;
/** The client gives up on a slow request after this long. */
const ABORT_AFTER_MS = 100;
/** DB_POOL_CLOSE_TIMEOUT_MS of the SIGTERM test: how long db.close() waits for sessions in flight. */
const CLOSE_TIMEOUT_MS = 2000;
/**
 * How soon after a SIGTERM the application must have exited: db.close()'s wait, plus Node's
 * `server.keepAliveTimeout` (5 s), for which a keep-alive connection stays open after its last
 * response although `server.close()` was called, plus two seconds.
 */
const EXIT_BOUND_MS = CLOSE_TIMEOUT_MS + 5000 + 2000;

// A user of its own, so the processlist shows this file's connections only.
const login = useFaultLogin('express', () => sharedServer);
const bastion = useBastion();
// For the example over aws: a MariaDB of the file's own that logs iam_user in with RDS IAM tokens (root only).
const iam = useIamServer();

let appScript = '';
let exampleScript = '';
beforeAll(async () => {
  const consumer = await consumerProject();
  [appScript, exampleScript] = await Promise.all([
    compileApp(consumer, 'express-app', APP),
    compileApp(consumer, 'express-example', EXAMPLE, EXAMPLE_TSCONFIG),
    iam.start(),
  ]);
}, 300_000);

const started = new Set<AppProcess>();
afterEach(async () => {
  await Promise.all([...started].map((app) => app.stop()));
  started.clear();
});

async function start(script: string, env: Record<string, string>): Promise<AppProcess> {
  const app = await startApp(script, dirname(script), env);
  started.add(app);
  return app;
}

/** What the application's /stats says: how its sessions ended, and its pool. */
interface AppStats {
  readonly sessions: number;
  readonly released: number;
  readonly aborted: number;
  readonly endedTwice: number;
  readonly unended: number;
  readonly pool: { readonly open: number; readonly idle: number; readonly leased: number; readonly waiting: number };
  /** Requests received and not yet answered, by path. */
  readonly inFlight: Record<string, number>;
}

async function stats(port: number): Promise<AppStats> {
  const agent = new http.Agent();
  try {
    const reply = await get(port, '/stats', agent);
    return JSON.parse(reply.body) as AppStats;
  } finally {
    agent.destroy();
  }
}

/**
 * Samples the server's processlist for `user` every 20 ms until stop() (bounded by `limitMs`):
 * the most connections seen, and the longest a SELECT SLEEP was seen running.
 */
function watchServer(user: string, limitMs = 60_000): { stop: () => Promise<{ connections: number; longestSleepMs: number; samples: number }> } {
  const seen = { connections: 0, longestSleepMs: 0, samples: 0 };
  const state = { running: true };
  const deadline = Date.now() + limitMs;
  const loop = (async (): Promise<void> => {
    while (state.running && Date.now() < deadline) {
      const rows = await processlist(sharedServer, user);
      seen.samples++;
      seen.connections = Math.max(seen.connections, rows.length);
      for (const row of rows) {
        // A DECIMAL column: mysql2 hands it over as a string.
        const ms: unknown = row.TIME_MS;
        if (row.INFO?.startsWith('SELECT SLEEP') === true) seen.longestSleepMs = Math.max(seen.longestSleepMs, Number(ms));
      }
      await sleep(20);
    }
  })();
  return {
    async stop() {
      state.running = false;
      await loop;
      return seen;
    },
  };
}

/** The SELECT SLEEP statements this file's user runs on the server now. */
async function sleeping(): Promise<ProcessRow[]> {
  return (await runningStatements(sharedServer, login.user)).filter((row) => row.INFO?.startsWith('SELECT SLEEP') === true);
}

/** The app's notices (dbErrorHandler's one-liners), and the error codes they name. */
function notices(app: AppProcess): { lines: string[]; codes: Record<string, number> } {
  const lines = app.stdout().split('\n').filter((line) => line.startsWith('notice '));
  const codes: Record<string, number> = {};
  for (const line of lines) {
    const code = /\((E[A-Z_]+)\)$/.exec(line)?.[1] ?? 'none';
    codes[code] = (codes[code] ?? 0) + 1;
  }
  return { lines, codes };
}

/** The app's `exit {...}` line, printed when it exits. */
function exitCounts(app: AppProcess): Omit<AppStats, 'pool' | 'inFlight'> | undefined {
  const line = app.stdout().split('\n').find((text) => text.startsWith('exit '));
  return line === undefined ? undefined : (JSON.parse(line.slice('exit '.length)) as Omit<AppStats, 'pool' | 'inFlight'>);
}

describe.each(PROVIDERS)('dbswitch/express over %s', (provider) => {
  const env = (): Record<string, string> => faultEnv(provider, sharedServer, login, bastion, { DB_POOL_MAX: String(POOL_MAX) });

  it(
    `2,000 requests at concurrency 50, 10 % aborted by the client mid-statement: every session released once, at most DB_POOL_MAX + 1 connections, ` +
      'aborted statements killed on the server, no error logged, nothing leased at the end',
    async () => {
      const app = await start(appScript, env());
      const watch = watchServer(login.user);
      const began = Date.now();
      // Every tenth request a SLEEP(2) the client gives up on after 100 ms: were it not killed on
      // the server, it would still run 1 s after the abort, and the processlist would show it.
      const replies = await load(app.port, {
        total: 2000,
        concurrency: 50,
        plan: (i) => (i % 10 === 9 ? { path: '/sleep?seconds=2', abortAfterMs: ABORT_AFTER_MS } : { path: '/one' }),
        limitMs: 30_000,
      });
      const loadMs = Date.now() - began;
      const server = await watch.stop();

      const outcomes = tally(replies);
      console.log(`[express ${provider}] 2,000 requests in ${loadMs} ms: ${JSON.stringify(outcomes)}; server: ${JSON.stringify(server)}`);
      expect(outcomes).toEqual({ 200: 1800, aborted: 200 });
      expect(new Set(replies.filter((reply) => reply.status === 200).map((reply) => reply.body))).toEqual(new Set(['{"one":1}']));

      // The sessions end a moment after their responses (an abort waits for its KILL).
      let after: AppStats | undefined;
      const settled = await eventually(async () => {
        after = await stats(app.port);
        return after.unended === 0 && after.pool.leased === 0;
      }, 3000);
      console.log(`[express ${provider}] sessions: ${JSON.stringify(after)}`);
      expect(settled).toBe(true);
      expect(after).toMatchObject({ sessions: 2000, released: 1800, aborted: 200, endedTwice: 0, unended: 0, pool: { leased: 0, waiting: 0 } });

      expect(server.samples).toBeGreaterThan(10);
      expect(server.connections).toBeGreaterThan(0);
      expect(server.connections).toBeLessThanOrEqual(POOL_MAX + 1);
      expect(server.longestSleepMs).toBeLessThan(ABORT_AFTER_MS + 1000);
      // The load ends as the last clients give up; their statements are gone once their sessions are.
      expect(await sleeping()).toEqual([]);

      // Each aborted handler heard of it (its pending statement rejected), and it ended quietly.
      const { lines, codes } = notices(app);
      console.log(`[express ${provider}] notices: ${JSON.stringify(codes)}, e.g. "${lines[0] ?? ''}"`);
      expect(lines).toHaveLength(200);
      expect(Object.keys(codes).filter((code) => code !== 'ECANCELLED' && code !== 'ESESSION_RELEASED')).toEqual([]);
      expect(codes['ECANCELLED']).toBeGreaterThan(0);
      expect(app.stderr()).toBe('');
    },
    60_000,
  );

  it("passes every other error on to Express (a 500, logged): a SQL error, and an ECANCELLED of the application's own AbortSignal", async () => {
    const app = await start(appScript, env());
    const agent = new http.Agent({ keepAlive: true });
    try {
      const missing = await get(app.port, '/missing-table', agent);
      const cancelled = await get(app.port, '/own-cancel', agent);
      expect([missing.status, cancelled.status]).toEqual([500, 500]);
    } finally {
      agent.destroy();
    }
    // Express's final handler prints each error with its stack.
    expect(await eventually(() => Promise.resolve(/ECANCELLED/.test(app.stderr())), 2000)).toBe(true);
    expect(app.stderr()).toMatch(/no_such_table[\s\S]*\n\s+at /);
    expect(app.stderr()).toMatch(/DbSwitchError: the statement was cancelled[\s\S]*\n\s+at /);
    expect(notices(app).lines).toEqual([]);
    // The cancelled statement's connection comes back once its KILL is done.
    expect(await eventually(async () => (await stats(app.port)).pool.leased === 0, 2000)).toBe(true);
  });

  it('SIGTERM under load (the README one-liner): the requests in flight complete, later ones are refused (never a 500), the process exits 0 in time', async () => {
    const app = await start(appScript, { ...env(), DB_POOL_CLOSE_TIMEOUT_MS: String(CLOSE_TIMEOUT_MS) });
    // Background load, going on after the SIGTERM until the server refuses a new connection.
    const background = load(app.port, {
      total: 100_000,
      concurrency: 30,
      plan: () => ({ path: '/one' }),
      limitMs: 20_000,
      until: (reply) => reply.error === 'ECONNREFUSED',
    });
    // Requests in flight at the SIGTERM: 20 SLEEP(0.5), twice what the pool holds, so 10 run and
    // 10 wait for a connection. Their client keeps its connections open, as a load balancer does.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
    const slow = Promise.all(Array.from({ length: 20 }, () => get(app.port, '/sleep?seconds=0.5', agent)));
    try {
      const received = await eventually(async () => (await stats(app.port)).inFlight['/sleep'] === 20, 5000);
      expect(received).toBe(true);
      expect(await eventually(async () => (await sleeping()).length > 0, 3000)).toBe(true);
      const sigtermAt = Date.now();
      app.child.kill('SIGTERM');
      const [inFlight, later, exit] = await Promise.all([slow, background, Promise.race([app.exited, sleep(EXIT_BOUND_MS + 5000).then(() => undefined)])]);
      const exitMs = exit === undefined ? Number.POSITIVE_INFINITY : exit.at - sigtermAt;
      console.log(`[express ${provider}] SIGTERM: in flight ${JSON.stringify(tally(inFlight))}, background ${JSON.stringify(tally(later))}, exit ${JSON.stringify(exit)} ${exitMs} ms after the SIGTERM`);

      expect(tally(inFlight)).toEqual({ 200: 20 });
      // Answered (200), refused by the app (503, Connection: close) or by the closed listener; never a 500.
      expect(later.filter((reply) => reply.status !== undefined && reply.status !== 200 && reply.status !== 503).map((reply) => `${String(reply.status)} ${reply.body}`)).toEqual([]);
      // (A request can meet a reset: server.close() closes the connections it holds idle, and one
      // may carry a request the server had not read yet. Node's keep-alive race, not dbswitch's.)
      expect(later.filter((reply) => reply.status === undefined && !['ECONNREFUSED', 'ECONNRESET'].includes(reply.error ?? '')).map((reply) => reply.error)).toEqual([]);
      expect(exit).toMatchObject({ code: 0, signal: null });
      expect(exitMs).toBeLessThan(EXIT_BOUND_MS);
      expect(exitCounts(app)).toMatchObject({ endedTwice: 0, unended: 0 });
      expect(app.stderr()).toBe('');
    } finally {
      agent.destroy();
      await app.stop();
      await Promise.allSettled([background, slow]);
    }
  }, 40_000);
});

/** Where the example runs over `provider`: its environment, the server it reaches, and its user and database there. */
function exampleTarget(provider: OrmProvider): { env: Record<string, string>; server: FaultServer; user: string; database: string } {
  if (provider !== 'aws') return { env: faultEnv(provider, sharedServer, login, bastion), server: sharedServer, user: login.user, database: login.database };
  const { server } = iam.current;
  const admin = async <T>(sql: string, values?: unknown[]): Promise<T> => {
    const connection = await server.admin();
    try {
      return (await connection.query(sql, values))[0] as T;
    } finally {
      await connection.end();
    }
  };
  return { env: ormEnv('aws', undefined, bastion, iam), server: { port: server.port, admin }, user: 'iam_user', database: 'iamdb' };
}

describe('examples/express (compiled against the published package, run as its README says)', () => {
  it.for(ORM_PROVIDERS)(
    'over %s: answers, rolls a failed transfer back, cancels an abandoned report on the server without an error in the log, and exits 0 on SIGTERM',
    { timeout: 30_000 },
    async (provider, { skip }) => {
      if (provider === 'aws' && !AS_ROOT) skip('the IAM sandbox writes to /etc/pam.d: it needs root (CI runs as root)');
      const target = exampleTarget(provider);
      await target.server.admin(`CREATE TABLE IF NOT EXISTS \`${target.database}\`.account (id INT PRIMARY KEY, balance INT NOT NULL)`);
      await target.server.admin(`REPLACE INTO \`${target.database}\`.account VALUES (1, 100), (2, 0)`);
      const app = await start(exampleScript, { ...target.env, PORT: '0' });
      const agent = new http.Agent({ keepAlive: true });
      const post = (body: object): Promise<number | undefined> =>
        new Promise((resolve) => {
          const request = http.request({ host: '127.0.0.1', port: app.port, path: '/transfer', method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (response) => {
            response.resume();
            response.on('end', () => {
              resolve(response.statusCode);
            });
          });
          request.on('error', () => {
            resolve(undefined);
          });
          request.end(JSON.stringify(body));
        });
      const balances = async (): Promise<number[]> =>
        (await target.server.admin<{ balance: number }[]>(`SELECT balance FROM \`${target.database}\`.account ORDER BY id`)).map((row) => row.balance);
      const reports = async (): Promise<ProcessRow[]> =>
        (await runningStatements(target.server, target.user)).filter((row) => row.INFO?.startsWith('SELECT SLEEP') === true);
      try {
        const greeting = await get(app.port, '/greeting/Ann', agent);
        expect([greeting.status, JSON.parse(greeting.body)]).toEqual([200, { greeting: 'Hello, Ann' }]);

        expect(await post({ from: 1, to: 2, amount: 30 })).toBe(204);
        expect(await balances()).toEqual([70, 30]);
        expect(await post({ from: 1, to: 2, amount: 300 })).toBe(500);
        expect(await balances()).toEqual([70, 30]);
        // Express logs an error that reaches it (the transfer's), after it answered.
        expect(await eventually(() => Promise.resolve(app.stderr().includes('Error: insufficient funds')), 2000)).toBe(true);

        const report = await get(app.port, '/report', agent, 200);
        expect(report.aborted).toBe(true);
        const cancelled = await eventually(async () => (await reports()).length === 0, 1000);
        expect(cancelled).toBe(true);
        expect(await eventually(() => Promise.resolve(app.stdout().includes('GET /report: the client went away; its statement was cancelled (ECANCELLED)')), 1000)).toBe(true);
        expect(app.stderr()).not.toContain('ECANCELLED');
      } finally {
        agent.destroy();
      }
      const sigtermAt = Date.now();
      app.child.kill('SIGTERM');
      const exit = await Promise.race([app.exited, sleep(10_000).then(() => undefined)]);
      expect(exit).toMatchObject({ code: 0 });
      expect((exit?.at ?? Number.POSITIVE_INFINITY) - sigtermAt).toBeLessThan(5000);
      // db.close() ended the connections (and, over ssh, the tunnel's).
      expect(await eventually(async () => (await processlist(target.server, target.user)).length === 0, 2000)).toBe(true);
    },
  );
});
