// @ts-check
// Cold start: what a Lambda, a CLI or a script pays at every start. Each contender runs in a
// fresh Node process, alternately, and is timed from spawn to its first row (process start,
// imports, configuration, connect, first query), median of COLD_RUNS.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median } from './measure.js';

const COLD_RUNS = Number(process.env['BENCH_COLD_RUNS'] ?? 15);
const INDEX = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/**
 * @param {{ host: string; port: number; user: string; password: string; database: string }} database
 * @param {Record<string, string>} sshEnv the ssh provider's settings, to the same database
 * @param {{ host: string; port: number; user: string; clientKeyPath: string }} bastion
 * @param {string} knownHosts
 */
export async function benchColdStart(database, sshEnv, bastion, knownHosts) {
  const basicEnv = { DB_HOST: database.host, DB_PORT: String(database.port), DB_USER: database.user, DB_PASSWORD: database.password, DB_NAME: database.database };
  const ownRow = `const { createDb } = await import(${JSON.stringify(INDEX)});
const db = await createDb({ env: JSON.parse(process.env.BENCH_ENV), cwd: process.env.BENCH_CWD });
await db.withSession((s) => s.query('SELECT 1'));
process.stdout.write('row\\n');
await db.close();`;
  const rawRow = `const { default: mysql } = await import('mysql2/promise');
const c = await mysql.createConnection(JSON.parse(process.env.BENCH_DB));
await c.query('SELECT 1');
process.stdout.write('row\\n');
await c.end();`;
  // OpenSSH started by the script itself, as a user's script would: spawn, wait for the port.
  const sshLRow = `const { spawn } = await import('node:child_process');
const net = await import('node:net');
const { default: mysql } = await import('mysql2/promise');
const db = JSON.parse(process.env.BENCH_DB);
const b = JSON.parse(process.env.BENCH_BASTION);
const port = 20000 + Math.floor(Math.random() * 30000);
const ssh = spawn('ssh', ['-N', '-L', '127.0.0.1:' + port + ':' + db.host + ':' + db.port, '-p', String(b.port), '-i', b.clientKeyPath,
  '-o', 'BatchMode=yes', '-o', 'ExitOnForwardFailure=yes', '-o', 'UserKnownHostsFile=' + b.knownHosts, '-o', 'StrictHostKeyChecking=yes', b.user + '@' + b.host], { stdio: 'ignore' });
for (let i = 0; i < 500; i++) {
  const open = await new Promise((resolve) => { const s = net.connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); }); s.once('error', () => resolve(false)); });
  if (open) break;
  await new Promise((resolve) => setTimeout(resolve, 5));
}
const c = await mysql.createConnection({ ...db, host: '127.0.0.1', port });
await c.query('SELECT 1');
process.stdout.write('row\\n');
await c.end();
ssh.kill();`;
  const env = {
    BENCH_DB: JSON.stringify(database),
    BENCH_BASTION: JSON.stringify({ host: bastion.host, port: bastion.port, user: bastion.user, clientKeyPath: bastion.clientKeyPath, knownHosts }),
    BENCH_CWD: fileURLToPath(new URL('.', import.meta.url)),
  };
  /** @type {Record<string, number[]>} */
  const samples = { 'basic, dbswitch': [], 'basic, raw mysql2': [], 'ssh, dbswitch': [], 'ssh, mysql2 via ssh -L': [] };
  for (let i = 0; i < COLD_RUNS; i++) {
    samples['basic, dbswitch']?.push(await firstRowMs(ownRow, { ...env, BENCH_ENV: JSON.stringify({ ...basicEnv, DB_LOG_LEVEL: 'warn' }) }));
    samples['basic, raw mysql2']?.push(await firstRowMs(rawRow, env));
    samples['ssh, dbswitch']?.push(await firstRowMs(ownRow, { ...env, BENCH_ENV: JSON.stringify(sshEnv) }));
    samples['ssh, mysql2 via ssh -L']?.push(await firstRowMs(sshLRow, env));
  }
  const ms = (/** @type {string} */ name) => median(samples[name] ?? []);
  const imports = await importMs();
  console.log(`\n## cold start\n\nFrom process start to the first row, median of ${COLD_RUNS} fresh processes each, alternating.\n`);
  console.log('| measurement | dbswitch | baseline | dbswitch / baseline |\n|---|---:|---:|---:|');
  console.log(`| basic: first row (ms) vs raw mysql2 | ${ms('basic, dbswitch').toFixed(0)} | ${ms('basic, raw mysql2').toFixed(0)} | ${(ms('basic, dbswitch') / ms('basic, raw mysql2')).toFixed(2)} |`);
  console.log(`| ssh: first row (ms) vs mysql2 through \`ssh -L\` | ${ms('ssh, dbswitch').toFixed(0)} | ${ms('ssh, mysql2 via ssh -L').toFixed(0)} | ${(ms('ssh, dbswitch') / ms('ssh, mysql2 via ssh -L')).toFixed(2)} |`);
  console.log(`| import (ms) vs import('mysql2/promise') | ${imports.dbswitch.toFixed(0)} | ${imports.mysql2.toFixed(0)} | ${(imports.dbswitch / imports.mysql2).toFixed(2)} |`);
}

/** Wall time from spawning a fresh node running `script` to its printing `row`. */
async function firstRowMs(/** @type {string} */ script, /** @type {Record<string, string>} */ env) {
  const started = performance.now();
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const elapsed = await /** @type {Promise<number>} */ (
    new Promise((resolve, reject) => {
      child.stdout.once('data', () => {
        resolve(performance.now() - started);
      });
      child.once('exit', (code) => {
        reject(new Error(`first-row script exited with ${String(code)}`));
      });
    })
  );
  await exited;
  return elapsed;
}

/** The import alone, each in fresh processes, median. */
async function importMs() {
  const time = (/** @type {string} */ specifier) =>
    /** @type {Promise<number>} */ (new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', `const t = performance.now(); await import(${JSON.stringify(specifier)}); process.stdout.write(String(performance.now() - t));`], {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (chunk) => {
        out += String(chunk);
      });
      child.once('exit', (code) => {
        if (code === 0) resolve(Number(out));
        else reject(new Error(`import script exited with ${String(code)}`));
      });
    }));
  /** @type {number[]} */ const ours = [];
  /** @type {number[]} */ const theirs = [];
  for (let i = 0; i < COLD_RUNS; i++) {
    ours.push(await time(INDEX));
    theirs.push(await time('mysql2/promise'));
  }
  return { dbswitch: median(ours), mysql2: median(theirs) };
}
