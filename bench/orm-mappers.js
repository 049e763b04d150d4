// @ts-check
// ORMs that take a driver module: TypeORM (`driver`) and Sequelize (`dialectModule`) on
// dbswitch/mysql2 against the same ORM on its own mysql2, at concurrency 16 with equal pool sizes:
// over basic (goal: at least 0.95x), and through the bastion against OpenSSH `ssh -L` (goal: at
// least 1.2x). TypeORM's pool is dbswitch's (createPool); Sequelize's pool is its own, of real
// mysql2 connections made by dbswitch/mysql2's createConnection.
import { QueryTypes, Sequelize } from 'sequelize';
import { DataSource } from 'typeorm';
import { mysql2Driver } from 'dbswitch/mysql2';
import { compare, header, table, throughput } from './measure.js';
import { openSshL } from './ssh-l.js';
import { sshEnvFor } from './ssh.js';

const CONNECTIONS = 16;
const MEASUREMENT = `SELECT 1, concurrency ${CONNECTIONS} (ops/s)`;

/** @typedef {{ host: string; port: number; user: string; password: string; database: string }} Database */
/** @typedef {{ run: (sql: string) => Promise<unknown>; close: () => Promise<void> }} Contender */
/** @typedef {ReturnType<typeof mysql2Driver>} Mysql2Module */

/**
 * @param {Database} database
 * @param {import('#sandbox').SshSandbox} bastion
 */
export async function benchMappers(database, bastion) {
  const basicEnv = {
    DB_TYPE: 'basic',
    DB_HOST: database.host,
    DB_PORT: String(database.port),
    DB_USER: database.user,
    DB_PASSWORD: database.password,
    DB_NAME: database.database,
    DB_POOL_MAX: String(CONNECTIONS),
    DB_LOG_LEVEL: 'warn',
  };
  const { env: sshEnv, knownHosts } = sshEnvFor(database, bastion, CONNECTIONS);
  const forward = await openSshL(database, bastion, knownHosts);
  const viaSshL = { ...database, host: '127.0.0.1', port: forward.port };
  /** @type {Contender[]} */
  const opened = [];
  /** @param {Promise<Contender>} contender */
  const open = async (contender) => {
    const made = await contender;
    opened.push(made);
    return made.run;
  };
  try {
    for (const [orm, make] of /** @type {const} */ ([
      ['TypeORM', typeOrm],
      ['Sequelize', sequelize],
    ])) {
      const basic = await compare(
        {
          [`${orm} on dbswitch (basic)`]: await open(make({ driver: mysql2Driver({ env: basicEnv, cwd: bastion.dir }) })),
          [`${orm} on mysql2`]: await open(make({ login: database })),
        },
        { [MEASUREMENT]: (run) => throughput(run, CONNECTIONS) },
      );
      console.log(`\n## ${orm}: dbswitch/mysql2 vs its own mysql2 (basic)\n\n${header()}\n\n${table(basic, Object.keys(basic[MEASUREMENT] ?? {}))}`);
      const ssh = await compare(
        {
          [`${orm} on dbswitch (ssh)`]: await open(make({ driver: mysql2Driver({ env: sshEnv, cwd: bastion.dir }) })),
          [`${orm} on mysql2 via ssh -L`]: await open(make({ login: viaSshL })),
        },
        { [MEASUREMENT]: (run) => throughput(run, CONNECTIONS) },
      );
      console.log(`\n## ${orm}: dbswitch/mysql2 (ssh) vs its own mysql2 through OpenSSH ssh -L\n\n${header()}\n\n${table(ssh, Object.keys(ssh[MEASUREMENT] ?? {}))}`);
      await Promise.all(opened.splice(0).map((contender) => contender.close()));
    }
  } finally {
    await Promise.all(opened.map((contender) => contender.close()));
    forward.close();
  }
}

/**
 * TypeORM's `SELECT 1`: a raw query on the data source (a query runner per call, as TypeORM runs
 * every statement outside a transaction).
 * @param {{ driver?: Mysql2Module; login?: Database }} how
 * @returns {Promise<Contender>}
 */
async function typeOrm(how) {
  const login = how.login === undefined ? {} : { host: how.login.host, port: how.login.port, username: how.login.user, password: how.login.password, database: how.login.database };
  const dataSource = new DataSource({ type: 'mysql', ...(how.driver === undefined ? {} : { driver: how.driver }), ...login, poolSize: CONNECTIONS });
  await dataSource.initialize();
  return {
    run: (sql) => dataSource.query(sql),
    close: async () => {
      await dataSource.destroy();
      await how.driver?.close();
    },
  };
}

/**
 * Sequelize's `SELECT 1`: a raw SELECT query (its pool, its result shaping).
 * @param {{ driver?: Mysql2Module; login?: Database }} how
 * @returns {Promise<Contender>}
 */
async function sequelize(how) {
  const login = how.login === undefined ? {} : { host: how.login.host, port: how.login.port, username: how.login.user, password: how.login.password, database: how.login.database };
  const orm = new Sequelize({
    dialect: 'mysql',
    ...(how.driver === undefined ? {} : { dialectModule: how.driver }),
    ...login,
    logging: false,
    pool: { max: CONNECTIONS, min: 0, idle: 60_000 },
  });
  await orm.authenticate();
  return {
    run: (sql) => orm.query(sql, { type: QueryTypes.SELECT }),
    close: async () => {
      await orm.close();
      // The tunnel now, not after the linger: the sandbox goes away right after the run.
      await how.driver?.close();
    },
  };
}
