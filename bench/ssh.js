// @ts-check
// ssh: dbswitch's ssh provider against raw ssh2 forwardOut + mysql2, against mysql2 through
// OpenSSH `ssh -L`, and direct; plus time to first row from process start.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import ssh2 from 'ssh2';
import { createDb } from '../dist/index.js';
import { compare, fetchMs, header, table, throughput } from './measure.js';
import { openSshL } from './ssh-l.js';

const CONNECTIONS = 16;

/**
 * @param {{ host: string; port: number; user: string; password: string; database: string }} database
 * @param {import('#sandbox').SshSandbox} bastion
 */
export async function benchSsh(database, bastion) {
  const { env, knownHosts } = sshEnvFor(database, bastion, CONNECTIONS);
  const db = await createDb({ env, cwd: bastion.dir });
  const raw = await rawSsh2(database, bastion);
  const forward = await openSshL(database, bastion, knownHosts);
  const viaSshL = mysql.createPool({ ...database, port: forward.port, connectionLimit: CONNECTIONS, supportBigNumbers: true });
  const direct = mysql.createPool({ ...database, connectionLimit: CONNECTIONS, supportBigNumbers: true });
  try {
    const measured = await compare(
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
    console.log(`\n## ssh\n\n${header()}\n\n${table(measured, ['dbswitch', 'raw ssh2', 'ssh -L', 'direct'])}`);
  } finally {
    await db.close();
    await raw.close();
    await viaSshL.end();
    await direct.end();
    forward.close();
  }
}

/**
 * The ssh provider's settings to `database` through `bastion`, trusting its key.
 * @param {{ host: string; port: number; user: string; password: string; database: string }} database
 * @param {Pick<import('#sandbox').SshSandbox, 'dir' | 'knownHostsLine' | 'host' | 'port' | 'user' | 'clientKeyPath'>} bastion
 * @param {number} connections
 */
export function sshEnvFor(database, bastion, connections) {
  const knownHosts = join(bastion.dir, 'bench_known_hosts');
  writeFileSync(knownHosts, `${bastion.knownHostsLine}\n`);
  const env = {
    DB_TYPE: 'ssh',
    DB_HOST: database.host,
    DB_PORT: String(database.port),
    DB_USER: database.user,
    DB_PASSWORD: database.password,
    DB_NAME: database.database,
    DB_POOL_MAX: String(connections),
    SSH_HOST: bastion.host,
    SSH_PORT: String(bastion.port),
    SSH_USER: bastion.user,
    SSH_PRIVATE_KEY_PATH: bastion.clientKeyPath,
    SSH_KNOWN_HOSTS: knownHosts,
    DB_LOG_LEVEL: 'warn',
  };
  return { env, knownHosts };
}

/** One ssh2 connection, CONNECTIONS mysql2 connections on forwardOut channels, a free list. */
async function rawSsh2(
  /** @type {{ host: string; port: number; user: string; password: string; database: string }} */ database,
  /** @type {import('#sandbox').SshSandbox} */ bastion,
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
