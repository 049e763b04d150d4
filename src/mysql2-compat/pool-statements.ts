import type { PoolConnection } from 'mysql2';
import { createQueryCommand, isFatal, type QueryCommand } from '../driver/mysql2.js';

/** mysql2's statement callback. */
export type Callback = (err: unknown, ...results: unknown[]) => void;

/** A pool's `getConnection`, mysql2's callback signature. */
type GetConnection = (callback: (err: unknown, connection?: PoolConnection) => void) => void;

/**
 * mysql2's `pool.query()` over any `getConnection`: the command is made and returned at once (so
 * `pool.query(sql).stream()` works), runs on a borrowed connection, which goes back once the
 * command ended — or is destroyed when the command failed fatally (mysql2 ends no command whose
 * connection was lost: only its callback hears of it).
 */
export function queryOnPool(getConnection: GetConnection, sql: unknown, values: unknown, callback: Callback | undefined, config: object): QueryCommand {
  const [args, done] = splitCallback(values, callback);
  const command = createQueryCommand(sql, args, done, config);
  getConnection((err, connection) => {
    if (err !== null || connection === undefined) {
      if (command.onResult !== undefined) command.onResult(err);
      else command.emit('error', err);
      return;
    }
    const giveBack = givingBack(connection);
    command.once('end', () => {
      giveBack(undefined);
    });
    const onResult = command.onResult;
    if (onResult !== undefined) {
      command.onResult = (error, ...results) => {
        try {
          onResult(error, ...results);
        } finally {
          if (isFatal(error)) giveBack(error);
        }
      };
    }
    connection.query(command as never);
  });
  return command;
}

/** mysql2's `pool.execute()` over any `getConnection`: one prepared statement on a borrowed connection. */
export function executeOnPool(getConnection: GetConnection, sql: unknown, values: unknown, callback: Callback | undefined): void {
  const [args, done] = splitCallback(values, callback);
  getConnection((err, connection) => {
    if (err !== null || connection === undefined) {
      done?.(err);
      return;
    }
    const giveBack = givingBack(connection);
    const finish: Callback = (error, ...results) => {
      try {
        done?.(error, ...results);
      } finally {
        giveBack(error);
      }
    };
    if (args === undefined) (connection.execute as (sql: unknown, cb: Callback) => void)(sql, finish);
    else (connection.execute as (sql: unknown, values: unknown, cb: Callback) => void)(sql, args, finish);
  });
}

/**
 * Gives a connection back once: destroyed after a fatal error; else released once mysql2 is done
 * with the command. While its callback and 'end' run, mysql2 still holds it as the connection's
 * current command, and a connection given back then would look busy to the pool, which would
 * KILL what it takes for a running statement.
 */
function givingBack(connection: PoolConnection): (error: unknown) => void {
  let given = false;
  return (error) => {
    if (given) return;
    given = true;
    if (isFatal(error)) connection.destroy();
    else
      process.nextTick(() => {
        connection.release();
      });
  };
}

/** mysql2's (sql, values, callback) and (sql, callback). */
function splitCallback(values: unknown, callback: Callback | undefined): [unknown, Callback | undefined] {
  return typeof values === 'function' ? [undefined, values as Callback] : [values, callback];
}
