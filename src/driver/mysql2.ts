/**
 * The slice of mysql2 that dbswitch depends on, in one place, so an upgrade touches one file.
 * dbswitch hands mysql2 the options it understands (`stream`, `ssl`) instead of wrapping it.
 */
import mysql from 'mysql2';
import type { Duplex } from 'node:stream';

export type {
  Connection,
  ConnectionOptions,
  FieldPacket,
  QueryOptions,
  QueryResult,
  ResultSetHeader,
  RowDataPacket,
  SslOptions,
} from 'mysql2';
import type { Connection as PromiseConnection } from 'mysql2/promise';
export type { PromiseConnection };

/** What a new physical connection needs, whatever carries its bytes. */
export interface ConnectParams {
  /** An open (or opening) stream to the server: a TCP or unix socket, or an SSH channel. */
  readonly stream: Duplex;
  /** The server's name as TLS must verify it; also what mysql2 reports as the host. */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string | undefined;
  readonly database: string | undefined;
  readonly charset: string;
  readonly ssl: mysql.SslOptions | undefined;
  readonly connectTimeoutMs: number;
  /** mysql2 auth plugins by name (the IAM token's mysql_clear_password). */
  readonly authPlugins?: Record<string, unknown> | undefined;
}

/** Opens a mysql2 connection over `params.stream` and resolves once it is authenticated. */
export function openConnection(params: ConnectParams): Promise<mysql.Connection> {
  const connection = mysql.createConnection({
    stream: params.stream,
    host: params.host,
    port: params.port,
    user: params.user,
    ...(params.password === undefined ? {} : { password: params.password }),
    ...(params.database === undefined ? {} : { database: params.database }),
    charset: params.charset,
    ...(params.ssl === undefined ? {} : { ssl: params.ssl }),
    connectTimeout: params.connectTimeoutMs,
    ...(params.authPlugins === undefined ? {} : { authPlugins: params.authPlugins as NonNullable<mysql.ConnectionOptions['authPlugins']> }),
    // Large integers and decimals keep their precision; dates stay as mysql2 reads them.
    supportBigNumbers: true,
  });
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      connection.removeListener('connect', onConnect);
      destroyConnection(connection);
      params.stream.destroy();
      reject(err);
    };
    const onConnect = (): void => {
      connection.removeListener('error', onError);
      resolve(connection);
    };
    connection.once('error', onError);
    connection.once('connect', onConnect);
  });
}

type StatementCallback = (err: unknown, rows: unknown, fields: unknown) => void;
type StatementMethods = Record<'query' | 'execute', (sql: unknown, values: unknown, callback: StatementCallback) => void>;

/**
 * Runs `query` or `execute` through mysql2's callback API. Its promise wrapper captures a stack
 * per call, which costs measurable throughput at high concurrency.
 */
export function runStatement(
  connection: mysql.Connection,
  method: 'query' | 'execute',
  sql: unknown,
  values: unknown,
  callback: StatementCallback,
): void {
  (connection as unknown as StatementMethods)[method](sql, values, callback);
}

/** The stream a promise connection runs over (a TLSSocket once TLS is negotiated). */
export function streamOf(connection: PromiseConnection): unknown {
  return (connection as unknown as { connection?: { stream?: unknown } }).connection?.stream;
}

/**
 * Closes a connection at once. mysql2's own destroy() only half-closes the socket and marks the
 * connection as closing, after which a statement in flight is neither answered nor failed.
 * Destroying the stream instead lets mysql2 see the close, fail that statement with a fatal
 * error, and close itself.
 */
export function destroyConnection(connection: mysql.Connection): void {
  // The 'connection lost' this causes is the close we asked for, and may come before the pool
  // listens on the connection: without a listener it would crash the process.
  connection.once('error', () => undefined);
  const stream = (connection as unknown as { stream?: Duplex }).stream;
  if (stream !== undefined && !stream.destroyed) stream.destroy();
  else connection.destroy();
}

/**
 * True when mysql2 failed a statement without sending it, because the connection was already
 * closed by the server (KILL, wait_timeout, restart) before this process noticed: writing to a
 * socket the peer had ended, or enqueueing on a connection already in error. Such a statement is
 * safe to run again on another connection.
 */
export function neverSent(err: unknown): boolean {
  const { code, message } = err as { code?: unknown; message?: unknown };
  return (
    code === 'EPIPE' ||
    code === 'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR' ||
    (typeof message === 'string' && /closed state|socket has been ended by the other party/.test(message))
  );
}
