import type { Connection, ConnectionOptions, Pool, PoolOptions } from 'mysql2';
import type { CreateDbOptions } from '../../db/create-db.js';
import type { Db } from '../../db/db.js';
import { escape, escapeId, format, statementSettings } from '../../driver/mysql2.js';
import { DbSwitchError } from '../../errors.js';
import { PoolFacade } from '../../mysql2-compat/pool-facade.js';
import { bridgedConnection } from './bridged-connection.js';
import { BoundDb, OwnedDb, type DbRequest } from './db-handle.js';
import { lendingOver } from './db-lending.js';
import { LazyPool } from './lazy-pool.js';
import { connectionRequest, poolRequest, sharedPoolOptions, type PoolRequest } from './orm-options.js';

/**
 * The part of mysql2's module that ORMs taking a driver module call: TypeORM (`driver`) calls
 * `createPool` (and `createPoolCluster` for replication), Sequelize (`dialectModule`) calls
 * `createConnection`.
 */
export interface Mysql2Module {
  /**
   * A mysql2-compatible pool (callback API, `.promise()`) over dbswitch's pool, returned at once.
   * Route, credentials, TLS and pool settings are dbswitch's; the ORM's `database` and `charset`
   * are the login's; its statement options (timezone, typeCast, dateStrings, supportBigNumbers,
   * bigNumberStrings, decimalNumbers, ...) apply to every statement. `end()` closes what the pool
   * opened.
   */
  createPool(options?: PoolOptions | string): Pool;
  /**
   * A real mysql2 connection, returned at once, whose route, credentials and TLS are dbswitch's;
   * the ORM's other options (database, typeCast, timezone, flags, ...) are mysql2's as usual.
   */
  createConnection(options?: ConnectionOptions | string): Connection;
  /** Replication is not supported through dbswitch: always throws EUSAGE. */
  createPoolCluster(options?: unknown): never;
  /**
   * Closes now what the module opened: its Dbs, their connections and SSH tunnels (instead of
   * after DB_LINGER_MS, once Sequelize closed its connections). Idempotent; a later
   * createPool or createConnection opens anew. A no-op for mysql2Driver(db): close your Db.
   *
   * @example
   * await sequelize.close();
   * await mysql2.close();
   */
  close(): Promise<void>;
  escape: typeof escape;
  escapeId: typeof escapeId;
  format: typeof format;
}

/**
 * The module over a configuration: one Db per distinct request of its pools (database, charset,
 * statement options), made on first use, shared, and closed by the last pool's end(); one Db for
 * the connections of createConnection, closed DB_LINGER_MS after the last one closed.
 */
export function ownedModule(options: CreateDbOptions): Mysql2Module {
  const owned = new Map<string, OwnedDb>();
  const functionIds = new WeakMap<object, number>();
  let functions = 0;
  const handleFor = (request: DbRequest): OwnedDb => {
    // Functions (typeCast, queryFormat) count by identity: one Db per function an ORM passes.
    const key = JSON.stringify([request.database ?? null, request.charset ?? null, request.statementSettings], (_name, value: unknown) => {
      if (typeof value !== 'function') return value;
      let id = functionIds.get(value);
      if (id === undefined) {
        id = ++functions;
        functionIds.set(value, id);
      }
      return `function #${id}`;
    });
    let handle = owned.get(key);
    if (handle === undefined) {
      handle = new OwnedDb(options, request);
      owned.set(key, handle);
    }
    return handle;
  };
  return {
    createPool(input) {
      const request = poolRequest(input as Record<string, unknown> | string | undefined);
      const settings = statementSettings(request.statementOptions);
      const handle = handleFor({ database: request.database, charset: request.charset, statementSettings: settings });
      handle.retain();
      const pool = new LazyPool(
        {
          pool: async () => (await handle.db()).pool(),
          end: () => handle.release(0),
        },
        { connectionLimit: handle.config.pool.max, connectionConfig: settings },
      );
      // A faithful subset of mysql2's Pool: what ORMs and mysql2's own promise pool call on one.
      return pool as unknown as Pool;
    },
    createConnection(input) {
      const request = connectionRequest(input as Record<string, unknown> | string | undefined);
      return bridgedConnection(handleFor({ database: undefined, charset: undefined, statementSettings: {} }), request);
    },
    createPoolCluster,
    async close() {
      await Promise.all([...owned.values()].map((handle) => handle.close()));
    },
    escape,
    escapeId,
    format,
  };
}

/**
 * The module over a Db of the application's: createPool lends the Db's own connections, shared
 * with its sessions, so the ORM's statement options go with every query instead.
 */
export function boundModule(db: Db): Mysql2Module {
  const bound = new BoundDb(db);
  return {
    createPool(input) {
      const request = poolRequest(input as Record<string, unknown> | string | undefined);
      assertSameLogin(db, request);
      const { queryDefaults, timezone } = sharedPoolOptions(request);
      const facade = new PoolFacade(lendingOver(() => bound.db(), timezone), {
        connectionLimit: bound.config.pool.max,
        queryDefaults,
        onEnd: () => bound.release(),
      });
      return facade as unknown as Pool;
    },
    createConnection(input) {
      return bridgedConnection(bound, connectionRequest(input as Record<string, unknown> | string | undefined));
    },
    createPoolCluster,
    close: () => Promise.resolve(),
    escape,
    escapeId,
    format,
  };
}

/** Replication (TypeORM's `replication`, mysql2's pool cluster) is not dbswitch's. */
export function createPoolCluster(): never {
  throw new DbSwitchError(
    'EUSAGE',
    "createPoolCluster(): replication is not supported through dbswitch, which reaches one database (DB_HOST). Drop the ORM's `replication` option; " +
      'for a read replica, give a second DataSource mysql2Driver({ env: { ...process.env, DB_HOST: replica } }).',
  );
}

function assertSameLogin(db: Db, request: PoolRequest): void {
  const { database, charset } = db.config.db;
  const clash = [
    request.database !== undefined && request.database !== database ? `database "${request.database}" (the Db's is "${database ?? ''}", DB_NAME)` : undefined,
    request.charset !== undefined && request.charset.toLowerCase() !== charset.toLowerCase() ? `charset "${request.charset}" (the Db's is "${charset}", DB_CHARSET)` : undefined,
  ].filter((text) => text !== undefined);
  if (clash.length > 0) {
    throw new DbSwitchError(
      'EUSAGE',
      `mysql2Driver(db).createPool(): the ORM asks for ${clash.join(' and ')}; a pool shared with a Db logs in as the Db does. Leave the option out, or use mysql2Driver() for a Db of its own.`,
    );
  }
}
