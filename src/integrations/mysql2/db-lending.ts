import type { Connection, Pool, PoolConnection } from 'mysql2';
import type { Db } from '../../db/db.js';
import { format } from '../../driver/mysql2.js';
import type { ConnectionLending } from '../../mysql2-compat/pool-facade.js';
import type { LendableConnection } from '../../mysql2-compat/connection-facade.js';

/** A connection of the Db's pool, as the pool of dbswitch/mysql2 lends it on. */
interface BorrowedConnection extends LendableConnection {
  readonly borrowed: PoolConnection;
}

/**
 * Lends the connections of a Db of the application's (through `db.pool()`, so pre-ping,
 * lifetime, reset, cancellation, IAM tokens and SSH channels all apply) to a pool with the ORM's
 * query defaults. Values are formatted into SQL in the ORM's `timezone`, which mysql2 would
 * otherwise take from the shared connection.
 */
export function lendingOver(db: () => Promise<Db>, timezone: string | undefined): ConnectionLending<BorrowedConnection> {
  // One object per connection object of db.pool(), which gives a new one per physical
  // connection and reset epoch: the facade above then sees a new connection too.
  const known = new WeakMap<PoolConnection, BorrowedConnection>();
  // One facade over the Db's pool, made again only for another Db or once it was ended.
  let facade: { readonly db: Db; readonly pool: Pool } | undefined;
  const poolOf = (current: Db): Pool => {
    if (facade?.db !== current || (facade.pool as { _closed?: boolean })._closed === true) facade = { db: current, pool: current.pool() };
    return facade.pool;
  };
  const wrap = (borrowed: PoolConnection): BorrowedConnection => {
    let conn = known.get(borrowed);
    if (conn === undefined) {
      conn = {
        borrowed,
        connection: inTimezone(borrowed, timezone ?? 'local'),
        epoch: borrowed,
        alive: true,
        destroy: () => {
          borrowed.destroy();
        },
      };
      known.set(borrowed, conn);
    }
    return conn;
  };
  return {
    borrow(done) {
      db()
        .then((current) => {
          // Calls back on a later tick, outside this chain: `done` runs once, here or below.
          poolOf(current).getConnection((err, borrowed) => {
            if (err !== null) done(err);
            else done(null, wrap(borrowed));
          });
        })
        .catch(done);
    },
    giveBack(conn) {
      // After destroy() this is a no-op: the lease has ended already.
      conn.borrowed.release();
      return undefined;
    },
  };
}

type QueryMethod = (sql: unknown, values?: unknown, callback?: unknown) => unknown;

/**
 * The connection with `query` formatting its values as mysql2 would in the ORM's own `timezone`
 * (a Date parameter is written in it: TypeORM's `timezone: 'Z'`); unchanged for `local`, which
 * dbswitch's connections use.
 */
function inTimezone(connection: PoolConnection, timezone: string): Connection {
  if (timezone === 'local') return connection;
  const query = (connection.query as QueryMethod).bind(connection);
  const formatted: QueryMethod = (sql, values, callback) => {
    if (isQueryCommand(sql)) {
      // Made by the pool's own query(): formatted in place, as mysql2 itself does.
      if (formattable(sql.values)) {
        sql.sql = format(sql.sql, sql.values as never, false, timezone);
        sql.values = undefined;
      }
      return query(sql, values, callback);
    }
    const [given, done] = typeof values === 'function' ? [undefined, values] : [values, callback];
    const request = typeof sql === 'string' ? { sql } : isPlainObject(sql) ? sql : undefined;
    const all = given ?? request?.['values'];
    if (request === undefined || typeof request['sql'] !== 'string' || request['namedPlaceholders'] === true || !formattable(all)) {
      return query(sql, values, callback);
    }
    return query({ ...request, sql: format(request['sql'], all as never, false, timezone), values: undefined }, done);
  };
  return new Proxy(connection, {
    get(target, property, receiver) {
      if (property === 'query') return formatted;
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
}

interface QueryCommandLike {
  sql: string;
  values: unknown;
}

function isQueryCommand(value: unknown): value is QueryCommandLike {
  return typeof value === 'object' && value !== null && value.constructor.name === 'Query' && typeof (value as { sql?: unknown }).sql === 'string';
}

/** Values mysql2 formats positionally (named placeholders are left to mysql2). */
function formattable(values: unknown): boolean {
  return values !== undefined && values !== null && (Array.isArray(values) || typeof values !== 'object');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}
