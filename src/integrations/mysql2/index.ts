/**
 * dbswitch/mysql2: a mysql2-shaped module for ORMs that take a driver module — TypeORM's `driver`,
 * Sequelize's `dialectModule` — so the ORM reaches the database the way `DB_TYPE` says (basic,
 * aws with IAM, ssh through a bastion), with one line of glue.
 *
 * @example
 * import * as mysql2 from 'dbswitch/mysql2';
 * const dataSource = new DataSource({ type: 'mysql', driver: mysql2, entities: [User] });
 * const sequelize = new Sequelize({ dialect: 'mysql', dialectModule: mysql2 });
 */
import type { Connection, ConnectionOptions, Pool, PoolOptions } from 'mysql2';
import type { CreateDbOptions } from '../../db/create-db.js';
import { Db } from '../../db/db.js';
import { escape, escapeId, format } from '../../driver/mysql2.js';
import { boundModule, createPoolCluster, ownedModule, type Mysql2Module } from './driver-module.js';

export type { Mysql2Module } from './driver-module.js';
export { createPoolCluster } from './driver-module.js';
export { escape, escapeId, format };

/**
 * A mysql2-shaped module bound to a configuration or to a Db of yours.
 *
 * - `mysql2Driver()` / `mysql2Driver(options)`: the configuration is read as `createDb(options)`
 *   reads it (env, `.env`, `config/dbswitch*.json`), on the ORM's first call; the module makes its
 *   own Db: one per distinct set of pool options (database, charset, statement options such as
 *   timezone or typeCast, which its connections take as mysql2's own would), shared by the pools
 *   asking for it and closed by the last `pool.end()` (TypeORM's `dataSource.destroy()`); and one
 *   for `createConnection`, closed `DB_LINGER_MS` after its last connection closed (Sequelize's
 *   `sequelize.close()`). The module `dbswitch/mysql2` itself is `mysql2Driver()`.
 * - `mysql2Driver(db)`: `createPool` lends the connections of your Db's pool (one pool for your
 *   sessions and the ORM; the ORM's statement options go with each of its queries, which costs
 *   some throughput); `pool.end()` leaves the Db open — you close it. The ORM's database and
 *   charset must then be the Db's (or left out).
 *
 * @example
 * const db = await createDb();
 * const dataSource = new DataSource({ type: 'mysql', driver: mysql2Driver(db), entities: [User] });
 * await dataSource.initialize();            // ... and db.withSession() beside it, on the same pool
 * await dataSource.destroy(); await db.close();
 *
 * @example
 * const sequelize = new Sequelize({ dialect: 'mysql', dialectModule: mysql2Driver({ cwd: appDir }) });
 */
export function mysql2Driver(source: Db | CreateDbOptions = {}): Mysql2Module {
  return source instanceof Db ? boundModule(source) : ownedModule(source);
}

/** The module `dbswitch/mysql2` is: made on the first call (importing reads and opens nothing). */
let shared: Mysql2Module | undefined;
const sharedModule = (): Mysql2Module => (shared ??= mysql2Driver());

/**
 * mysql2's `createPool`, over dbswitch's pool: see {@link Mysql2Module.createPool}.
 *
 * @example
 * const pool = createPool({ database: 'shop', dateStrings: true });
 * pool.query('SELECT ? AS x', [1], (err, rows) => { ... });
 * pool.end();
 */
export function createPool(options?: PoolOptions | string): Pool {
  return sharedModule().createPool(options);
}

/**
 * mysql2's `createConnection`, routed and logged in by dbswitch: see {@link Mysql2Module.createConnection}.
 *
 * @example
 * const connection = createConnection({ database: 'shop' });
 * connection.once('connect', () => connection.query('SELECT 1', () => connection.end()));
 */
export function createConnection(options?: ConnectionOptions | string): Connection {
  return sharedModule().createConnection(options);
}

/**
 * Closes now what `dbswitch/mysql2` opened (its Dbs, connections, tunnels): see
 * {@link Mysql2Module.close}.
 *
 * @example
 * await sequelize.close();
 * await close();        // the SSH tunnel too, without waiting for DB_LINGER_MS
 */
export function close(): Promise<void> {
  return shared === undefined ? Promise.resolve() : shared.close();
}

/** The module as a value, for `import mysql2 from 'dbswitch/mysql2'`. */
const defaultModule: Mysql2Module = {
  createPool,
  createConnection,
  createPoolCluster,
  close,
  escape,
  escapeId,
  format,
};
export default defaultModule;
