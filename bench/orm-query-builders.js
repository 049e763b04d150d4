// @ts-check
// Query builders on dbswitch: Kysely, Drizzle and Knex each run their own `SELECT 1`-shaped query
// at concurrency 16, on dbswitch's pool (db.pool(); dbswitch/knex for Knex) against the same ORM on
// a mysql2 pool of its own (createPool, 10 connections), alternating in one run. Through ssh: the
// same ORM on dbswitch's ssh provider against mysql2 through OpenSSH `ssh -L`. Each builder runs
// in a child process of this file (`node bench/orm-query-builders.js <name>`, started by run.js).
//   node bench/run.js orm    (after npm run build)
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Kysely, MysqlDialect, sql as kyselySql } from 'kysely';
import { sql as drizzleSql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/mysql2';
import knex from 'knex';
import mysql from 'mysql2';
import { createDb } from '../dist/index.js';
// The package's own name: its exports map gives the entry's types (dist/knex.js has none beside it).
import { knexConfig } from 'dbswitch/knex';
import { compare, header, table, throughput } from './measure.js';
import { openSshL } from './ssh-l.js';
import { sshEnvFor } from './ssh.js';

const CONNECTIONS = 10;
const CONCURRENCY = 16;

/**
 * @typedef {{ host: string; port: number; user: string; password: string; database: string }} Database
 * @typedef {(sql: string) => Promise<unknown>} Runner
 * @typedef {{ run: Runner; close: () => Promise<void> }} Contender
 * @typedef {{ name: string; onPool: (pool: mysql.Pool) => Contender; onDb: (db: import('../dist/index.js').Db) => Contender }} QueryBuilder
 */

/** @type {QueryBuilder[]} */
const BUILDERS = [
  {
    name: 'Kysely',
    onPool: (pool) => kyselyOn(pool),
    onDb: (db) => kyselyOn(db.pool()),
  },
  {
    name: 'Drizzle',
    onPool: (pool) => drizzleOn(pool),
    onDb: (db) => drizzleOn(db.pool()),
  },
  {
    name: 'Knex',
    // knex 3.3's connectionPool: knex on a mysql2 pool, no tarn pool of its own. (Its types want
    // a callback `end(cb?: (err?: Error) => void)`, which mysql2's Pool has in another shape.)
    onPool: (pool) => knexOn(knex({ client: 'mysql2', connectionPool: /** @type {import('knex').Knex.MySQLPoolLike} */ (/** @type {unknown} */ (pool)) })),
    onDb: (db) => knexOn(knex(knexConfig(db))),
  },
];

/** @param {import('kysely').MysqlPool} pool @returns {Contender} */
function kyselyOn(pool) {
  const orm = new Kysely({ dialect: new MysqlDialect({ pool }) });
  return { run: () => orm.selectNoFrom(kyselySql`1`.as('one')).execute(), close: () => orm.destroy() };
}

/** @param {mysql.Pool} pool @returns {Contender} */
function drizzleOn(pool) {
  const orm = drizzle({ client: pool.promise() });
  return { run: () => orm.select({ one: drizzleSql`1` }).from(drizzleSql`DUAL`), close: () => Promise.resolve() };
}

/** @param {import('knex').Knex} orm @returns {Contender} */
function knexOn(orm) {
  return { run: () => orm.select(orm.raw('1 AS one')), close: () => orm.destroy() };
}

/**
 * The run's own noise floor: Kysely on one mysql2 pool against Kysely on another, identical one.
 * Any ratio but 1.00 here is what this machine adds to the ratios below.
 * @param {Database} database
 */
async function control(database) {
  const pools = [1, 2].map(() => mysql.createPool({ ...database, connectionLimit: CONNECTIONS, supportBigNumbers: true }));
  const [first, second] = pools.map((pool) => kyselyOn(pool));
  try {
    if (first === undefined || second === undefined) throw new Error('two pools');
    const measured = await compare(
      { 'mysql2 pool A': first.run, 'mysql2 pool B': second.run },
      { 'Kysely SELECT 1, concurrency 16 (ops/s)': (run) => throughput(run, CONCURRENCY) },
    );
    console.log(`\n### Control: the same contender twice (this run's noise)\n\n${header()}\n\n${table(measured, ['mysql2 pool A', 'mysql2 pool B'])}`);
    return measured;
  } finally {
    await Promise.all([first?.close(), second?.close()]);
    await Promise.all(pools.map((pool) => endPool(pool)));
  }
}

/** @param {mysql.Pool} pool */
function endPool(pool) {
  return new Promise((resolve) => {
    pool.end(() => {
      resolve(undefined);
    });
  });
}

/** @typedef {Pick<import('#sandbox').SshSandbox, 'host' | 'port' | 'user' | 'dir' | 'clientKeyPath' | 'knownHostsLine'>} Bastion */

/**
 * Runs the control, then each query builder, each in a process of its own, as an application
 * runs one ORM: in one process after the others, Knex read 0.87 of its own pool in two runs and
 * 1.00 to 1.03 alone, an effect of the process's state, not of either contender.
 * @param {Database} database
 * @param {Bastion} bastion
 */
export async function benchQueryBuilders(database, bastion) {
  console.log(`\n## query builders (goal: dbswitch >= 0.95x mysql2's own pool; dbswitch ssh >= 1.2x ssh -L)\n\nPools of ${CONNECTIONS}; each builder in a process of its own.`);
  const { dir, host, port, user, clientKeyPath, knownHostsLine } = bastion;
  const task = { database, bastion: { dir, host, port, user, clientKeyPath, knownHostsLine } };
  for (const name of ['control', ...BUILDERS.map((builder) => builder.name)]) {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), name], {
      env: { ...process.env, [TASK_ENV]: JSON.stringify(task) },
      stdio: 'inherit',
    });
    const code = await /** @type {Promise<number | null>} */ (
      new Promise((resolve) => {
        child.once('exit', resolve);
      })
    );
    if (code !== 0) throw new Error(`the ${name} benchmark exited with ${String(code)}`);
  }
}

/** Where the parent passes the database and the bastion to a child. */
const TASK_ENV = 'DBSWITCH_BENCH_TASK';

/**
 * One query builder over basic and ssh, against its own mysql2 pool and over `ssh -L`.
 * @param {QueryBuilder} builder
 * @param {Database} database
 * @param {Bastion} bastion
 */
async function benchOne(builder, database, bastion) {
  const basicEnv = {
    DB_HOST: database.host, DB_PORT: String(database.port), DB_USER: database.user, DB_PASSWORD: database.password, DB_NAME: database.database,
    DB_POOL_MAX: String(CONNECTIONS), DB_LOG_LEVEL: 'warn',
  };
  const { env: sshEnv, knownHosts } = sshEnvFor(database, bastion, CONNECTIONS);
  const forward = await openSshL(database, bastion, knownHosts);
  const basicDb = await createDb({ env: basicEnv, cwd: bastion.dir });
  const sshDb = await createDb({ env: sshEnv, cwd: bastion.dir });
  const direct = mysql.createPool({ ...database, connectionLimit: CONNECTIONS, supportBigNumbers: true });
  const viaSshL = mysql.createPool({ ...database, port: forward.port, connectionLimit: CONNECTIONS, supportBigNumbers: true });
  const contenders = {
    dbswitch: builder.onDb(basicDb),
    mysql2: builder.onPool(direct),
    'dbswitch ssh': builder.onDb(sshDb),
    'ssh -L': builder.onPool(viaSshL),
  };
  try {
    const title = `${builder.name} SELECT 1, concurrency ${CONCURRENCY} (ops/s)`;
    const basic = await compare(
      { dbswitch: contenders.dbswitch.run, mysql2: contenders.mysql2.run },
      { [title]: (run) => throughput(run, CONCURRENCY) },
    );
    const ssh = await compare(
      { 'dbswitch ssh': contenders['dbswitch ssh'].run, 'ssh -L': contenders['ssh -L'].run },
      { [title]: (run) => throughput(run, CONCURRENCY) },
    );
    console.log(`\n### ${builder.name}\n\n${header()}\n\n${table(basic, ['dbswitch', 'mysql2'])}\n\n${table(ssh, ['dbswitch ssh', 'ssh -L'])}`);
  } finally {
    for (const contender of Object.values(contenders)) await contender.close();
    await Promise.all([basicDb.close(), sshDb.close(), endPool(direct), endPool(viaSshL)]);
    forward.close();
  }
}

// A child started by benchQueryBuilders: one builder (or the control), then exit.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const name = process.argv[2];
  const task = /** @type {unknown} */ (JSON.parse(process.env[TASK_ENV] ?? '{}'));
  const { database, bastion } = /** @type {{ database: Database; bastion: Bastion }} */ (task);
  const builder = BUILDERS.find((candidate) => candidate.name === name);
  if (name === 'control') await control(database);
  else if (builder !== undefined) await benchOne(builder, database, bastion);
  else throw new Error(`no query builder named ${String(name)}`);
}
