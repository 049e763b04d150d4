import type { FieldPacket, QueryOptions } from 'mysql2';
import type { Db } from '../../db/db.js';

/** mysql2's callback for a statement: rows (or a ResultSetHeader) and the columns. */
export type StatementCallback = (err: unknown, result?: unknown, fields?: FieldPacket[]) => void;

/** The part of a mysql2 connection lent by a pool that the adapter uses. */
export interface LentConnection {
  query(options: QueryOptions, values: unknown[], callback: StatementCallback): unknown;
  /** Back to the pool. */
  release(): void;
  /** Closed: it broke, or its state is unknown. */
  destroy(): void;
}

/** The part of mysql2's callback pool the adapter uses: what `db.pool()` gives. */
export interface CallbackPool {
  getConnection(callback: (err: unknown, connection?: LentConnection) => void): void;
}

/**
 * What the adapter needs of a Db: its mysql2-compatible pool, and its configuration (for the
 * schema name). A `Db` from `createDb()` is one.
 */
export type PoolSource = Pick<Db, 'pool' | 'config'>;

/** Runs one statement with the callback API (mysql2's promise wrapper costs a stack per call). */
export function runQuery(target: Pick<LentConnection, 'query'>, options: QueryOptions, values: unknown[]): Promise<[unknown, FieldPacket[] | undefined]> {
  return new Promise((resolve, reject) => {
    target.query(options, values, (err, result, fields) => {
      if (err !== null && err !== undefined) reject(asError(err));
      else resolve([result, fields]);
    });
  });
}

/** Borrows a connection from the pool. */
export function borrow(pool: CallbackPool): Promise<LentConnection> {
  return new Promise((resolve, reject) => {
    pool.getConnection((err, connection) => {
      if (err !== null && err !== undefined) reject(asError(err));
      else if (connection === undefined) reject(new Error('the pool lent no connection'));
      else resolve(connection);
    });
  });
}

/** mysql2 fails with Errors; anything else is wrapped, kept as the cause. */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error('mysql2 failed with a value that is not an Error', { cause: err });
}
