import { promisify } from 'node:util';
import type { Knex } from 'knex';
import type { Pool, PoolConnection } from 'mysql2';
import type { Db } from '../../db/db.js';
import { DbSwitchError } from '../../errors.js';
import { knexMysql2Client } from './knex-slices.js';

/**
 * What the knex client needs of a Db: its mysql2-compatible pool, and DB_NAME for
 * `client.database()`. A `Db` from `createDb()` is one.
 */
export type KnexDbSource = Pick<Db, 'pool' | 'config'>;

/**
 * knex's `pool.afterCreate` hook as dbswitch/knex calls it: with the mysql2 pool connection
 * (callback API), and `done` to call when finished, with an error to fail the acquire.
 *
 * @example
 * const afterCreate: KnexAfterCreate = (connection, done) => {
 *   connection.query("SET SESSION sql_mode = 'ANSI_QUOTES'", (err) => { done(err); });
 * };
 * const k = knex(knexConfig(db, { pool: { afterCreate } }));
 */
export type KnexAfterCreate = (connection: PoolConnection, done: (err?: Error | null) => void) => void;

/**
 * A knex client class (knex's own mysql2 client underneath: its query builder, compiler, schema
 * builder, transactions and streams) whose connections are lent by `source`'s pool instead of a
 * tarn pool of knex's own over raw connection options: pre-ping, lifetime, idle reaping, session
 * isolation, IAM tokens and SSH channels apply to knex too. knex never opens a connection itself.
 *
 * - `pool.afterCreate(connection, done)` runs on each connection knex has not seen before: a new
 *   physical connection, and also one whose session state dbswitch reset after another session
 *   changed it (to knex, a new connection). A failure destroys that connection and fails the
 *   acquire, as with knex's own pool. Settings belong in DB_INIT_SQL: run by dbswitch on every
 *   new connection and after every reset, at no cost per checkout.
 * - The other `pool` options and `acquireConnectionTimeout` do not apply: DB_POOL_MAX,
 *   DB_POOL_ACQUIRE_TIMEOUT_MS and the rest of `pool.*` do.
 * - `knex.destroy()` waits for the connections this knex has out, then stops lending; the Db stays
 *   open (other users of it are unaffected) until `db.close()`. `knex.initialize()` lends again.
 * - A query `.timeout(ms, { cancel: true })` sends KILL QUERY on a connection of the pool.
 *
 * `knexConfig(db)` is the usual way in; the class itself serves a configuration built by hand.
 *
 * @example
 * const k = knex({ client: dbswitchKnexClient(db), migrations: { directory: './migrations' } });
 */
export function dbswitchKnexClient(source: KnexDbSource): typeof Knex.Client {
  const Mysql2Client = knexMysql2Client();
  const database = source.config.db.database;

  class DbSwitchKnexClient extends Mysql2Client {
    /**
     * Connections afterCreate ran on (one object per physical connection and reset epoch), and
     * whether each is lent to this knex now: a flag and a count, not a Set of the lent ones,
     * which V8 would rebuild over and over under a checkout per query (see ConnectionPool).
     */
    private readonly dbswitchKnown = new WeakMap<PoolConnection, { lent: boolean }>();
    private dbswitchLentCount = 0;
    private dbswitchDestroyed = false;
    /** The Db's pool as a mysql2 pool, made once (again only if something ended it). */
    private dbswitchPool: Pool | undefined;
    /** destroy() calls waiting for the lent connections to come back (each call waits). */
    private readonly dbswitchDrainWaiters: (() => void)[] = [];

    constructor(config: Knex.Config) {
      super(config);
      // `client.database()` (column info, foreign keys) reads it; dbswitch holds the rest.
      this.connectionSettings = database === undefined ? {} : { database };
    }

    /** No tarn pool: dbswitch's pool lends the connections. Also what `knex.initialize()` calls. */
    initializePool(): void {
      this.dbswitchDestroyed = false;
    }

    async acquireConnection(): Promise<PoolConnection> {
      if (this.dbswitchDestroyed) {
        throw new DbSwitchError('ECLOSED', 'knex.destroy() was called on this knex instance; knex.initialize() lends again (the Db itself stays open until db.close())');
      }
      const connection = await borrow(this.dbswitchLendingPool());
      let known = this.dbswitchKnown.get(connection);
      if (known === undefined) {
        try {
          await this.checkVersion?.(connection);
          const afterCreate = this.config.pool?.afterCreate as KnexAfterCreate | undefined;
          if (afterCreate !== undefined) await promisify(afterCreate)(connection);
        } catch (err) {
          connection.destroy();
          throw err;
        }
        known = { lent: false };
        this.dbswitchKnown.set(connection, known);
      }
      // Already lent when it went back past releaseConnection (its own release()): counted once.
      if (!known.lent) {
        known.lent = true;
        this.dbswitchLentCount++;
      }
      return connection;
    }

    /** One facade for this knex: its connection objects, and so afterCreate's bookkeeping, last across acquires. */
    private dbswitchLendingPool(): Pool {
      if (this.dbswitchPool === undefined || (this.dbswitchPool as { _closed?: boolean })._closed === true) this.dbswitchPool = source.pool();
      return this.dbswitchPool;
    }

    releaseConnection(connection: PoolConnection): Promise<void> {
      const known = this.dbswitchKnown.get(connection);
      if (known?.lent === true) {
        known.lent = false;
        this.dbswitchLentCount--;
        connection.release();
      }
      if (this.dbswitchLentCount === 0) for (const drained of this.dbswitchDrainWaiters.splice(0)) drained();
      return Promise.resolve();
    }

    async destroy(callback?: (err?: unknown) => void): Promise<void> {
      this.dbswitchDestroyed = true;
      if (this.dbswitchLentCount > 0) {
        await new Promise<void>((resolve) => {
          this.dbswitchDrainWaiters.push(resolve);
        });
      }
      callback?.();
    }

    /** `.timeout(ms, { cancel: true })`: KILL QUERY from another connection of the pool. */
    async cancelQuery(connectionToKill: PoolConnection): Promise<void> {
      const pool = this.dbswitchLendingPool().promise();
      await pool.query('KILL QUERY ?', [connectionToKill.threadId]);
    }

    acquireRawConnection(): Promise<never> {
      return Promise.reject(new DbSwitchError('EUSAGE', 'dbswitch/knex opens no connection of its own: connections come from db.pool()'));
    }
  }
  return DbSwitchKnexClient as unknown as typeof Knex.Client;
}

function borrow(pool: Pool): Promise<PoolConnection> {
  return new Promise((resolve, reject) => {
    pool.getConnection((err, connection) => {
      if (err !== null) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve(connection);
    });
  });
}
