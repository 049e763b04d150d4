import type { Duplex } from 'node:stream';
import {
  destroyConnection,
  hasCommandInFlight,
  observeConnection,
  refusesCommands,
  runStatement,
  streamOf,
  type Connection,
  type ConnectionObserver,
} from '../driver/mysql2.js';

/**
 * What the pool does to a mysql2 connection beyond its public API: the driver functions of
 * src/driver/mysql2.ts, gathered so a unit test can hand the pool a fake connection and driver.
 */
export interface ConnectionDriver {
  /** Reports status flags and commands (see observeConnection). */
  observe(connection: Connection, observer: ConnectionObserver): void;
  /** Runs a statement through the callback API. */
  run(connection: Connection, method: 'query' | 'execute', sql: unknown, values: unknown, callback: (err: unknown, rows: unknown, fields: unknown) => void): void;
  /** Whether a command (ours or sent on the raw connection) is under way. */
  busy(connection: Connection): boolean;
  /** Whether the connection refuses new commands: closed (end(), destroy()) or failed fatally. */
  refusesCommands(connection: Connection): boolean;
  /** Closes at once, failing what runs. */
  destroy(connection: Connection): void;
  /** The socket or channel under the connection. */
  stream(connection: Connection): Duplex | undefined;
}

/** The real thing. */
export const mysql2Driver: ConnectionDriver = {
  observe: observeConnection,
  run: runStatement,
  busy: hasCommandInFlight,
  refusesCommands,
  destroy: destroyConnection,
  stream: streamOf,
};
