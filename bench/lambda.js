// @ts-check
// Lambda cold start: what the first invocation of a fresh execution environment pays. Each
// contender runs in a fresh Node process, alternately: it imports its handler module (INIT),
// invokes the handler once as the runtime does, and prints the result; timed from spawn to that
// result, median of COLD_RUNS. The process then invokes it WARM_INVOCATIONS more times (the
// median of those is the warm figure) and ends without closing anything: the dbswitch handler's
// process exits by itself, the raw mysql2 one's only because its script ends the connection.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median } from './measure.js';

const COLD_RUNS = Number(process.env['BENCH_COLD_RUNS'] ?? 15);
const WARM_INVOCATIONS = 50;
const LAMBDA = fileURLToPath(new URL('../dist/lambda.js', import.meta.url));

/** The runtime's part, shared by both contenders: invoke once, print, invoke warm, print. */
const INVOKE = `const context = () => { const deadline = Date.now() + 3000; return { getRemainingTimeInMillis: () => deadline - Date.now() }; };
await handler({ id: 1 }, context());
process.stdout.write('result\\n');
const warm = [];
for (let i = 0; i < ${WARM_INVOCATIONS}; i++) {
  const started = performance.now();
  await handler({ id: i }, context());
  warm.push(performance.now() - started);
}
process.stdout.write('warm ' + JSON.stringify(warm) + '\\n');`;

/** @param {{ host: string; port: number; user: string; password: string; database: string }} database */
export async function benchLambda(database) {
  const env = { DB_HOST: database.host, DB_PORT: String(database.port), DB_USER: database.user, DB_PASSWORD: database.password, DB_NAME: database.database, DB_LOG_LEVEL: 'warn' };
  const ours = `const { withDbSession } = await import(${JSON.stringify(LAMBDA)});
const handler = withDbSession(async (event, _context, session) => (await session.query('SELECT ? AS id', [event.id]))[0]);
${INVOKE}`;
  // The usual hand-written handler: a module-level connection, made on the first invocation.
  const raw = `const { default: mysql } = await import('mysql2/promise');
let connection;
const handler = async (event) => {
  connection ??= await mysql.createConnection(JSON.parse(process.env.BENCH_DB));
  return (await connection.query('SELECT ? AS id', [event.id]))[0];
};
${INVOKE}
await connection.end();`;
  const shared = { BENCH_DB: JSON.stringify(database) };
  /** @type {{ cold: number[]; warm: number[]; exit: number[] }} */
  const dbswitch = { cold: [], warm: [], exit: [] };
  /** @type {{ cold: number[]; warm: number[]; exit: number[] }} */
  const mysql2 = { cold: [], warm: [], exit: [] };
  for (let i = 0; i < COLD_RUNS; i++) {
    record(dbswitch, await invokeFresh(ours, { ...shared, ...env }));
    record(mysql2, await invokeFresh(raw, shared));
  }
  const row = (/** @type {string} */ title, /** @type {number} */ a, /** @type {number} */ b, digits = 0) =>
    `| ${title} | ${a.toFixed(digits)} | ${b.toFixed(digits)} | ${(a / b).toFixed(2)} |`;
  console.log(`\n## lambda\n\nA fresh Node process per run, alternating: import the handler module, invoke it once, ${WARM_INVOCATIONS} warm invocations after; median of ${COLD_RUNS} runs.\n`);
  console.log('| measurement | withDbSession | raw mysql2 handler | withDbSession / raw |\n|---|---:|---:|---:|');
  console.log(row('cold start: spawn to the first result (ms)', median(dbswitch.cold), median(mysql2.cold)));
  console.log(row('warm invocation (ms)', median(dbswitch.warm), median(mysql2.warm), 2));
  console.log(
    `| last result to process exit, without close() (ms) | ${median(dbswitch.exit).toFixed(0)} | ${median(mysql2.exit).toFixed(0)} (after connection.end()) | |`,
  );
}

/** @param {{ cold: number[]; warm: number[]; exit: number[] }} into @param {{ cold: number; warm: number; exit: number }} sample */
function record(into, sample) {
  into.cold.push(sample.cold);
  into.warm.push(sample.warm);
  into.exit.push(sample.exit);
}

/**
 * Runs `script` in a fresh node: ms from spawn to its first result, the median of its warm
 * invocations, and ms from its last result to its exit. Killed after 30 s.
 * @returns {Promise<{ cold: number; warm: number; exit: number }>}
 */
function invokeFresh(/** @type {string} */ script, /** @type {Record<string, string>} */ env) {
  const started = performance.now();
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  let out = '';
  let cold = Number.NaN;
  let lastResult = Number.NaN;
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      out += String(chunk);
      if (Number.isNaN(cold) && out.includes('result\n')) cold = performance.now() - started;
      if (Number.isNaN(lastResult) && out.includes('warm ')) lastResult = performance.now();
    });
    child.once('exit', (code) => {
      clearTimeout(killer);
      const line = out.split('\n').find((text) => text.startsWith('warm '));
      if (code !== 0 || line === undefined) {
        reject(new Error(`lambda script exited with ${String(code)}`));
        return;
      }
      /** @type {unknown} */
      const warm = JSON.parse(line.slice('warm '.length));
      resolve({ cold, warm: median(/** @type {number[]} */ (warm)), exit: performance.now() - lastResult });
    });
  });
}
