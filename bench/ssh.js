// @ts-check
// ssh: dbswitch's ssh provider against raw ssh2 forwardOut + mysql2, against mysql2 through
// OpenSSH `ssh -L`, and direct; plus time to first row from process start.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import ssh2 from 'ssh2';
import { createDb } from '../dist/index.js';
import { freePort } from '../dist/testbed/free-port.js';
import { compare, fetchMs, header, median, table, throughput } from './measure.js';

const CONNECTIONS = 16;

/**
 * @param {{ host: string; port: number; user: string; password: string; database: string }} database
 * @param {import('../dist/testbed/ssh-sandbox.js').SshSandbox} bastion
 */
export async function benchSsh(database, bastion) {
  const knownHosts = join(bastion.dir, 'bench_known_hosts');
  writeFileSync(knownHosts, `${bastion.knownHostsLine}\n`);
  const env = {
    DB_TYPE: 'ssh',
    DB_HOST: database.host,
    DB_PORT: String(database.port),
    DB_USER: database.user,
    DB_PASSWORD: database.password,
    DB_NAME: database.database,
    DB_POOL_MAX: String(CONNECTIONS),
    SSH_HOST: bastion.host,
    SSH_PORT: String(bastion.port),
    SSH_USER: bastion.user,
    SSH_PRIVATE_KEY_PATH: bastion.clientKeyPath,
    SSH_KNOWN_HOSTS: knownHosts,
    LOG_LEVEL: 'warn',
  };
  const db = await createDb({ env, cwd: bastion.dir });
  const raw = await rawSsh2(database, bastion);
  const forward = await openSshL(database, bastion, knownHosts);
  const viaSshL = mysql.createPool({ ...database, port: forward.port, connectionLimit: CONNECTIONS, supportBigNumbers: true });
  const direct = mysql.createPool({ ...database, connectionLimit: CONNECTIONS, supportBigNumbers: true });
  try {
    const medians = await compare(
      {
        dbswitch: (sql) => db.withSession((s) => s.query(sql)),
        'raw ssh2': (sql) => raw.query(sql),
        'ssh -L': (sql) => viaSshL.query(sql),
        direct: (sql) => direct.query(sql),
      },
      {
        'SELECT 1, concurrency 16 (ops/s)': (run) => throughput(run, 16),
        '20 MB result (ms)': (run) => fetchMs(run, 'SELECT * FROM big'),
      },
    );
    const firstRow = [];
    for (let i = 0; i < 5; i++) firstRow.push(await timeToFirstRow(env, bastion.dir));
    console.log(`\n## ssh\n\n${header()}\n\n${table(medians, ['dbswitch', 'raw ssh2', 'ssh -L', 'direct'])}`);
    console.log(`\nTime to first row from process start (node, createDb, SSH handshake, first query), median of 5: ${median(firstRow).toFixed(0)} ms`);
  } finally {
    await db.close();
    await raw.close();
    await viaSshL.end();
    await direct.end();
    forward.close();
  }
}

/** One ssh2 connection, CONNECTIONS mysql2 connections on forwardOut channels, a free list. */
async function rawSsh2(
  /** @type {{ host: string; port: number; user: string; password: string; database: string }} */ database,
  /** @type {import('../dist/testbed/ssh-sandbox.js').SshSandbox} */ bastion,
) {
  const { readFileSync } = await import('node:fs');
  const client = new ssh2.Client();
  await new Promise((resolve, reject) => {
    client.once('ready', () => {
      resolve(undefined);
    });
    client.once('error', reject);
    client.connect({ host: bastion.host, port: bastion.port, username: bastion.user, privateKey: readFileSync(bastion.clientKeyPath) });
  });
  /** @type {import('mysql2/promise').Connection[]} */
  const free = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    /** @type {import('ssh2').ClientChannel} */
    const channel = await new Promise((resolve, reject) => {
      client.forwardOut('127.0.0.1', 0, database.host, database.port, (err, stream) => {
        if (err) reject(err);
        else resolve(stream);
      });
    });
    free.push(await mysql.createConnection({ ...database, stream: channel, supportBigNumbers: true }));
  }
  /** @type {((c: import('mysql2/promise').Connection) => void)[]} */
  const waiting = [];
  return {
    /** @param {string} sql */
    async query(sql) {
      const conn =
        free.pop() ??
        (await /** @type {Promise<import('mysql2/promise').Connection>} */ (
          new Promise((resolve) => {
            waiting.push(resolve);
          })
        ));
      try {
        return await conn.query(sql);
      } finally {
        const next = waiting.shift();
        if (next) next(conn);
        else free.push(conn);
      }
    },
    async close() {
      await Promise.all(free.map((conn) => conn.end()));
      client.end();
    },
  };
}

/** OpenSSH's `ssh -N -L port:db` to the bastion; resolves once the local port accepts. */
async function openSshL(
  /** @type {{ host: string; port: number }} */ database,
  /** @type {import('../dist/testbed/ssh-sandbox.js').SshSandbox} */ bastion,
  /** @type {string} */ knownHosts,
) {
  const port = await freePort();
  const child = spawn(
    'ssh',
    ['-N', '-L', `127.0.0.1:${port}:${database.host}:${database.port}`, '-p', String(bastion.port), '-i', bastion.clientKeyPath,
      '-o', 'BatchMode=yes', '-o', 'ExitOnForwardFailure=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes',
      `${bastion.user}@${bastion.host}`],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    const open = await /** @type {Promise<boolean>} */ (
      new Promise((resolve) => {
        const socket = connect({ host: '127.0.0.1', port }, () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => {
          resolve(false);
        });
      })
    );
    if (open) break;
    if (Date.now() > deadline) throw new Error('ssh -L did not open its port');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    port,
    close: () => {
      child.kill();
    },
  };
}

/** Wall time from spawning a fresh node to its first row through the ssh provider. */
async function timeToFirstRow(/** @type {Record<string, string>} */ env, /** @type {string} */ cwd) {
  const index = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  const script = `const { createDb } = await import(${JSON.stringify(index)});
const db = await createDb({ env: JSON.parse(process.env.BENCH_ENV), cwd: process.env.BENCH_CWD });
await db.withSession((s) => s.query('SELECT 1'));
process.stdout.write('row\\n');
await db.close();`;
  const started = performance.now();
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, BENCH_ENV: JSON.stringify(env), BENCH_CWD: cwd },
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
