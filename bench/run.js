// @ts-check
// Benchmarks dbswitch against raw mysql2 on the private sandbox, in one run, and prints a
// Markdown table of the ratios (README "Performance"). Every loop is bounded in time and count.
//   npm run bench            (builds first)
//   BENCH_SECONDS=5 npm run bench
import { performance } from 'node:perf_hooks';
import mysql from 'mysql2/promise';
import { createDb } from '../dist/index.js';
import { startMariaDb } from '../dist/testbed/mariadb-sandbox.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const MAX_OPS = 5_000_000;
const BIG_ROWS = 20_000; // 20,000 rows of ~1 KiB: a 20 MB result
const BIG_REPEATS = 5;

const sandbox = await startMariaDb();
try {
  await sandbox.createUser('bench', 'bench-password', 'bench');
  await sandbox.sql(
    'CREATE TABLE bench.big (id INT PRIMARY KEY, payload VARCHAR(1000) NOT NULL)',
    `INSERT INTO bench.big SELECT seq, REPEAT('x', 1000) FROM bench.seq_1_to_${BIG_ROWS}`,
  );
  const connection = { host: '127.0.0.1', port: sandbox.port, user: 'bench', password: 'bench-password', database: 'bench' };

  const db = await createDb({
    env: { DB_HOST: connection.host, DB_PORT: String(connection.port), DB_USER: connection.user, DB_PASSWORD: connection.password, DB_NAME: connection.database, LOG_LEVEL: 'warn' },
    cwd: sandbox.dir,
  });
  const pool = mysql.createPool({ ...connection, connectionLimit: 10, supportBigNumbers: true });

  /** @type {Record<string, (sql: string) => Promise<unknown>>} */
  const contenders = {
    dbswitch: (sql) => db.withSession((s) => s.query(sql)),
    mysql2: (sql) => pool.query(sql),
  };

  /** Operations per second of `run` at `concurrency`, for SECONDS. */
  async function throughput(/** @type {(sql: string) => Promise<unknown>} */ run, /** @type {number} */ concurrency) {
    const deadline = performance.now() + SECONDS * 1000;
    let ops = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline && ops < MAX_OPS) {
          await run('SELECT 1');
          ops++;
        }
      }),
    );
    return ops / ((performance.now() - started) / 1000);
  }

  /** Milliseconds to fetch the 20 MB result, median of BIG_REPEATS. */
  async function bigResult(/** @type {(sql: string) => Promise<unknown>} */ run) {
    const times = [];
    for (let i = 0; i < BIG_REPEATS; i++) {
      const started = performance.now();
      await run('SELECT * FROM big');
      times.push(performance.now() - started);
    }
    return median(times);
  }

  /** @param {number[]} values */
  function median(values) {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  }

  // warm both pools (connections opened, statements and JIT warm)
  for (const run of Object.values(contenders)) await throughput(run, 16).then(() => undefined, () => undefined);

  /** @type {Record<string, Record<string, number[]>>} */
  const results = { 'SELECT 1, concurrency 1 (ops/s)': {}, 'SELECT 1, concurrency 16 (ops/s)': {}, '20 MB result (ms)': {} };
  for (let round = 0; round < ROUNDS; round++) {
    // alternate who goes first, so warm-up and drift do not favour one side
    const order = round % 2 === 0 ? ['dbswitch', 'mysql2'] : ['mysql2', 'dbswitch'];
    for (const name of order) {
      const run = contenders[name];
      if (run === undefined) continue;
      ((results['SELECT 1, concurrency 1 (ops/s)'] ??= {})[name] ??= []).push(await throughput(run, 1));
      ((results['SELECT 1, concurrency 16 (ops/s)'] ??= {})[name] ??= []).push(await throughput(run, 16));
      ((results['20 MB result (ms)'] ??= {})[name] ??= []).push(await bigResult(run));
    }
  }

  const rss = Math.round(process.memoryUsage().rss / 1024 / 1024);
  console.log(`\nNode ${process.version}, MariaDB on loopback, ${SECONDS} s per measurement, median of ${ROUNDS} rounds, RSS ${rss} MiB\n`);
  console.log('| measurement | dbswitch | raw mysql2 | ratio (dbswitch / mysql2) |');
  console.log('|---|---:|---:|---:|');
  for (const [title, byName] of Object.entries(results)) {
    const ours = median(byName['dbswitch'] ?? []);
    const theirs = median(byName['mysql2'] ?? []);
    // for times, lower is better: express the ratio as relative throughput either way
    const ratio = title.endsWith('(ms)') ? theirs / ours : ours / theirs;
    console.log(`| ${title} | ${ours.toFixed(0)} | ${theirs.toFixed(0)} | ${ratio.toFixed(2)} |`);
  }
  await db.close();
  await pool.end();
} finally {
  await sandbox.destroy();
}
