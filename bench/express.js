// @ts-check
// express: per-request overhead of dbswitch/express. The same Express 5 route, one SELECT 1 per
// request, through req.db (dbMiddleware) and through a raw mysql2 pool of the same size
// (pool.query), served by one child process (the apps one after the other under load) and driven
// over HTTP keep-alive from this one, alternating rounds (measure.js). A third app holds a mysql2
// connection per request until its response is done, as a request-scoped session does: it tells
// what the model costs (fewer statements in flight per connection) from what dbswitch costs.
// Besides requests per second, the server process's CPU time per 1,000 requests: on a busy
// machine throughput swings with the neighbours, CPU per request less.
import { fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compare, header, table, throughput } from './measure.js';

const POOL_SIZE = 10;
const CONCURRENCY = 50;
/** How long the server process may take to start before the benchmark gives up on it. */
const START_LIMIT_MS = 30_000;
/** How long a request may take before it counts as failed (a bound, not a measurement). */
const REQUEST_LIMIT_MS = 10_000;

/** @typedef {{ host: string; port: number; user: string; password: string; database: string }} Database */

/**
 * @param {Database} database
 * @param {string} cwd
 */
export async function benchExpress(database, cwd) {
  const server = fork(fileURLToPath(import.meta.url), ['serve'], { env: { ...process.env, BENCH_DATABASE: JSON.stringify(database), BENCH_CWD: cwd }, stdio: 'inherit' });
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    const ports = await ready(server);
    const names = ['dbswitch/express', 'mysql2 pool.query', 'mysql2 connection per request'];
    const measured = await compare(
      {
        'dbswitch/express': () => get(agent, ports.dbswitch),
        'mysql2 pool.query': () => get(agent, ports.mysql2),
        'mysql2 connection per request': () => get(agent, ports.perRequest),
      },
      {
        [`GET /one (SELECT 1), concurrency ${CONCURRENCY} (req/s)`]: (run) => throughput(run, CONCURRENCY),
        'GET /one (SELECT 1), concurrency 1 (req/s)': (run) => throughput(run, 1),
        [`server CPU per 1,000 requests, concurrency ${CONCURRENCY} (ms)`]: (run) => cpuPerThousand(server, run),
      },
    );
    console.log(
      `\n## express\n\n${header()}; pools of ${POOL_SIZE}; the apps in one child process, the HTTP client (node:http, keep-alive) in this one\n\n${table(measured, names)}`,
    );
  } finally {
    agent.destroy();
    await stop(server);
  }
}

/**
 * The server process's CPU time (user + system) per 1,000 requests of `run` at CONCURRENCY, in ms.
 * @param {import('node:child_process').ChildProcess} server
 * @param {(sql: string) => Promise<unknown>} run
 */
async function cpuPerThousand(server, run) {
  let requests = 0;
  const before = await serverCpu(server);
  await throughput(async (sql) => {
    await run(sql);
    requests++;
  }, CONCURRENCY);
  const after = await serverCpu(server);
  return (after - before) / 1000 / (requests / 1000);
}

/**
 * The server process's CPU time so far, µs (asked over IPC).
 * @param {import('node:child_process').ChildProcess} server
 * @returns {Promise<number>}
 */
function serverCpu(server) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error('the express bench server did not report its CPU time'));
    }, 5000);
    server.once('message', (message) => {
      clearTimeout(timer);
      resolve(Number(/** @type {{ cpuUs?: number }} */ (message).cpuUs));
    });
    server.send('cpu');
  });
}

/**
 * Waits for the server process to report its ports.
 * @param {import('node:child_process').ChildProcess} child
 * @returns {Promise<{ dbswitch: number; mysql2: number; perRequest: number }>}
 */
function ready(child) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`the express bench server did not start within ${START_LIMIT_MS} ms`));
    }, START_LIMIT_MS);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve(/** @type {{ dbswitch: number; mysql2: number; perRequest: number }} */ (message));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the express bench server exited with ${String(code)}`));
    });
  });
}

/**
 * SIGTERM (the app closes its servers, Db and pool), SIGKILL if it lingers.
 * @param {import('node:child_process').ChildProcess} child
 */
async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(killer);
}

/**
 * GET /one; rejects unless 200.
 * @param {http.Agent} agent
 * @param {number} port
 * @returns {Promise<void>}
 */
function get(agent, port) {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/one', agent, timeout: REQUEST_LIMIT_MS }, (response) => {
      response.resume();
      response.on('end', () => {
        if (response.statusCode === 200) resolve();
        else reject(new Error(`GET /one answered ${String(response.statusCode)}`));
      });
    });
    request.on('timeout', () => request.destroy(new Error(`GET /one took longer than ${REQUEST_LIMIT_MS} ms`)));
    request.on('error', reject);
  });
}

/**
 * The server process: the same route on two Express apps, one over dbswitch/express, one over a
 * raw mysql2 pool. Reports its ports over IPC; closes everything on SIGTERM.
 * @param {Database} database
 * @param {string} cwd
 */
async function serve(database, cwd) {
  const { default: express } = await import('express');
  const { default: mysql } = await import('mysql2/promise');
  // By package name (the package's exports map resolves it to dist/), as an application imports them.
  const { createDb } = await import('dbswitch');
  const { dbErrorHandler, dbMiddleware } = await import('dbswitch/express');
  const db = await createDb({
    env: {
      DB_HOST: database.host, DB_PORT: String(database.port), DB_USER: database.user, DB_PASSWORD: database.password, DB_NAME: database.database,
      DB_POOL_MAX: String(POOL_SIZE), DB_LOG_LEVEL: 'warn',
    },
    cwd,
  });
  const pool = mysql.createPool({ ...database, connectionLimit: POOL_SIZE, supportBigNumbers: true });
  const perRequestPool = mysql.createPool({ ...database, connectionLimit: POOL_SIZE, supportBigNumbers: true });

  const viaDbswitch = express();
  viaDbswitch.use(dbMiddleware(db));
  viaDbswitch.get('/one', async (req, res) => {
    const [rows] = await req.db.query('SELECT 1 AS one');
    res.json(/** @type {unknown[]} */ (rows)[0]);
  });
  viaDbswitch.use(dbErrorHandler());

  const viaMysql2 = express();
  viaMysql2.get('/one', async (_req, res) => {
    const [rows] = await pool.query('SELECT 1 AS one');
    res.json(/** @type {unknown[]} */ (rows)[0]);
  });

  const perRequest = express();
  perRequest.get('/one', async (_req, res) => {
    const conn = await perRequestPool.getConnection();
    res.once('close', () => {
      conn.release();
    });
    const [rows] = await conn.query('SELECT 1 AS one');
    res.json(/** @type {unknown[]} */ (rows)[0]);
  });

  /** @param {import('express').Express} app @returns {Promise<http.Server>} */
  const listen = (app) =>
    new Promise((resolve) => {
      const server = app.listen(0, '127.0.0.1', () => {
        resolve(server);
      });
      // Keep-alive connections stay open between measurements: with Node's 5 s timeout, the
      // client could reuse a socket the server is just closing (ECONNRESET).
      server.keepAliveTimeout = 0;
    });
  const servers = await Promise.all([listen(viaDbswitch), listen(viaMysql2), listen(perRequest)]);
  const port = (/** @type {http.Server} */ server) => /** @type {import('node:net').AddressInfo} */ (server.address()).port;
  process.on('message', () => {
    const { user, system } = process.cpuUsage();
    process.send?.({ cpuUs: user + system });
  });
  process.send?.({ dbswitch: port(servers[0]), mysql2: port(servers[1]), perRequest: port(servers[2]) });
  process.once('SIGTERM', () => {
    for (const server of servers) {
      server.close();
      server.closeIdleConnections();
    }
    void Promise.all([db.close(), pool.end(), perRequestPool.end()]);
  });
}

if (process.argv[2] === 'serve' && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  /** @type {unknown} */
  const database = JSON.parse(process.env['BENCH_DATABASE'] ?? '{}');
  await serve(/** @type {Database} */ (database), process.env['BENCH_CWD'] ?? process.cwd());
}
