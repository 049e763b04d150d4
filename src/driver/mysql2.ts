/**
 * The slice of mysql2 that dbswitch depends on, in one place, so an upgrade touches one file.
 * dbswitch hands mysql2 the options it understands (`stream`, `ssl`, `authPlugins`) instead of
 * wrapping it.
 *
 * Checked against mysql2 3.24.6. The private API used here, and nowhere else:
 * - `connection.stream`: the socket or channel under a connection;
 * - `connection.handlePacket` and `connection._command.next`: to read the server status flags of
 *   every OK and EOF packet, including the end-of-rows packet that mysql2 reads privately;
 * - `connection.addCommand`: to see every command, also those an ORM sends on the raw connection;
 * - `Command#sql` / `Prepare#query`: the text of a statement command.
 */
// Namespace imports: mysql2's types have no default export (a CommonJS consumer's types need none).
import * as mysql from 'mysql2';
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
import * as mysqlPromise from 'mysql2/promise';
import type { Connection as PromiseConnection, Pool as PromisePool, PoolConnection as PromisePoolConnection } from 'mysql2/promise';
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
  let connection: mysql.Connection;
  try {
    connection = createConnection(params);
  } catch (err) {
    // mysql2 checks some options (the charset) synchronously, after the stream was opened.
    params.stream.destroy();
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
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

function createConnection(params: ConnectParams): mysql.Connection {
  return mysql.createConnection({
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

/** The stream a connection runs over (a TLSSocket once TLS is negotiated). */
export function streamOf(connection: mysql.Connection | PromiseConnection): Duplex | undefined {
  const callbackConnection = 'connection' in connection ? (connection as { connection: mysql.Connection }).connection : connection;
  return (callbackConnection as unknown as { stream?: Duplex }).stream;
}

/**
 * Closes a connection at once. mysql2's own destroy() only half-closes the socket and marks the
 * connection as closing, after which a statement in flight is neither answered nor failed.
 * Destroying the stream instead lets mysql2 see the close, fail that statement with a fatal
 * error, and close itself.
 */
export function destroyConnection(connection: mysql.Connection): void {
  // The 'connection lost' this causes is the close we asked for, and may come before anyone
  // listens on the connection: without a listener it would crash the process.
  connection.once('error', () => undefined);
  const stream = streamOf(connection);
  if (stream !== undefined && !stream.destroyed) stream.destroy();
  else connection.destroy();
}

/** What kind of command a connection was handed, for session-state tracking. */
export type CommandKind = 'statement' | 'ping' | 'reset' | 'quit' | 'close-statement' | 'other';

/** What a connection reports to whoever watches it. */
export interface ConnectionObserver {
  /** The server status flags of an OK or EOF packet, as they arrive. */
  status(flags: number): void;
  /** A command was queued; `sql` is its text for statements (query, execute, prepare). */
  command(kind: CommandKind, sql: string | undefined): void;
  /**
   * The connection failed fatally and is dead; called before the commands' callbacks hear it.
   * mysql2 may tell only those callbacks (over TLS, no 'error' or 'end' reaches the connection),
   * whoever sent the commands.
   */
  fatal(err: unknown): void;
}

interface CommandInternals {
  readonly constructor: { readonly name: string };
  readonly sql?: unknown;
  readonly query?: unknown;
  readonly next?: ((...args: unknown[]) => unknown) | null;
  /** The states, methods of the command's class, that read an OK packet when one comes. */
  readonly resultsetHeader?: unknown;
  readonly pingResponse?: unknown;
  readonly resetConnectionResponse?: unknown;
}

interface PacketInternals {
  readonly buffer: Buffer;
  readonly offset: number;
  isEOF(): boolean;
  eofStatusFlags(): number;
}

// Function-typed properties, not methods: observeConnection keeps the originals and calls them
// with the connection as `this`.
interface ConnectionInternals {
  _command: CommandInternals | null | undefined;
  handlePacket: (this: ConnectionInternals, packet: PacketInternals | undefined) => void;
  addCommand: (this: ConnectionInternals, command: CommandInternals) => unknown;
  /** Where every fatal error goes (network, protocol, server closing): it tells the queued commands, then closes. */
  _notifyError: (this: ConnectionInternals, err: unknown) => void;
  _addCommandClosedState: (this: ConnectionInternals, command: CommandInternals) => unknown;
}

const COMMAND_KINDS: Readonly<Record<string, CommandKind>> = {
  Query: 'statement',
  Execute: 'statement',
  Prepare: 'statement',
  Ping: 'ping',
  ResetConnection: 'reset',
  Quit: 'quit',
  CloseStatement: 'close-statement',
};

/**
 * Whether the next packet of `command`, when it starts with 0x00, is an OK packet: mysql2's
 * commands are state machines whose state is the method that reads the next packet. Compared by
 * identity, not by name: this runs for every packet that starts with 0x00.
 */
function expectsOkPacket(command: CommandInternals | null | undefined): boolean {
  const next = command?.next;
  if (command === undefined || command === null || next === undefined || next === null) return false;
  return next === command.resultsetHeader || next === command.pingResponse || next === command.resetConnectionResponse;
}

/**
 * Watches every command queued on `connection` and the status flags of every OK and EOF packet
 * it receives, whoever sent the command (dbswitch, or an ORM on the raw connection). Install it
 * once the connection is authenticated.
 */
export function observeConnection(connection: mysql.Connection, observer: ConnectionObserver): void {
  const internals = connection as unknown as ConnectionInternals;
  // The originals, called with the connection as `this` (a plain call, not a bound function's:
  // handlePacket runs for every packet).
  const { handlePacket, addCommand, _notifyError: notifyError } = internals;
  internals.handlePacket = function observedHandlePacket(this: ConnectionInternals, packet) {
    if (packet !== undefined) {
      const first = packet.buffer[packet.offset];
      if (first === 0xfe && packet.isEOF()) {
        observer.status(packet.eofStatusFlags());
      } else if (first === 0x00 && expectsOkPacket(this._command)) {
        const flags = okPacketStatus(packet.buffer, packet.offset);
        if (flags !== undefined) observer.status(flags);
      }
    }
    handlePacket.call(this, packet);
  };
  internals.addCommand = function observedAddCommand(this: ConnectionInternals, command) {
    const kind = COMMAND_KINDS[command.constructor.name] ?? 'other';
    const text = kind === 'statement' ? (command.sql ?? command.query) : undefined;
    observer.command(kind, typeof text === 'string' ? text : undefined);
    return addCommand.call(this, command);
  };
  // Once per connection, not a wrapper around each command's callback: that one cost more than
  // the rest of the observer (measured with Kysely at concurrency 16: a fifth more CPU per query,
  // and V8 promoted every query's objects to the old generation).
  internals._notifyError = function observedNotifyError(err) {
    if (isFatal(err)) observer.fatal(err);
    notifyError.call(this, err);
  };
}

/**
 * The status flags of an OK packet: 0x00, affected rows and last insert id as length-encoded
 * integers, then two bytes of flags (little-endian).
 */
function okPacketStatus(buffer: Buffer, offset: number): number | undefined {
  let position = offset + 1;
  for (let field = 0; field < 2; field++) {
    const lead = buffer[position];
    if (lead === undefined) return undefined;
    position += lead < 0xfb ? 1 : lead === 0xfc ? 3 : lead === 0xfd ? 4 : 9;
  }
  return position + 2 <= buffer.length ? buffer.readUInt16LE(position) : undefined;
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

/** True for the error a statement gets when KILL QUERY stopped it. */
export function wasInterrupted(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ER_QUERY_INTERRUPTED' || code === 'ER_STATEMENT_TIMEOUT';
}

/** True when mysql2 marked an error as fatal: the connection is unusable afterwards. */
export function isFatal(err: unknown): boolean {
  return (err as { fatal?: unknown } | null)?.fatal === true;
}

/**
 * True once mysql2 refuses new commands ("Can't add new command when connection is in closed
 * state"): after `end()` or `destroy()` on the connection, or a fatal error. mysql2 swaps
 * `addCommand` for `_addCommandClosedState` then (checked against mysql2 3.24), before the socket
 * has closed: the one synchronous sign that an application closed the connection it was lent.
 */
export function refusesCommands(connection: mysql.Connection): boolean {
  const internals = connection as unknown as ConnectionInternals;
  return internals.addCommand === internals._addCommandClosedState;
}

/** True while a command (ours or one sent on the raw connection) is under way or queued. */
export function hasCommandInFlight(connection: mysql.Connection): boolean {
  return (connection as unknown as ConnectionInternals)._command != null;
}

/**
 * A query command as mysql2's own pool makes one (`Connection.createQuery`): returned to the
 * caller at once (so `pool.query(sql).stream()` works) and run later on a borrowed connection.
 */
export function createQueryCommand(sql: unknown, values: unknown, callback: unknown, config: object): QueryCommand {
  const Connection = mysql.Connection as unknown as { createQuery(sql: unknown, values: unknown, callback: unknown, config: object): QueryCommand };
  return Connection.createQuery(sql, values, callback, config);
}

/** The part of mysql2's query command a pool touches. */
export interface QueryCommand {
  onResult?: (err: unknown, ...results: unknown[]) => void;
  emit(event: 'error', err: unknown): boolean;
  once(event: 'end', listener: () => void): unknown;
}

export { escape, escapeId, format } from 'mysql2';


/** mysql2/promise's classes, exported at run time but not declared in its types. */
const promiseClasses = mysqlPromise as unknown as {
  PromisePool: new (pool: mysql.Pool) => PromisePool;
  PromisePoolConnection: new (connection: mysql.PoolConnection) => PromisePoolConnection;
};

/** mysql2's own promise pool over a callback pool (what `pool.promise()` returns in mysql2). */
export function promisePool(pool: mysql.Pool): PromisePool {
  return new promiseClasses.PromisePool(pool);
}

/** mysql2's own promise pool connection over a callback one. */
export function promisePoolConnection(connection: mysql.PoolConnection): PromisePoolConnection {
  return new promiseClasses.PromisePoolConnection(connection);
}

// ---------------------------------------------------------------------------------------------
// For dbswitch/mysql2's createConnection (Sequelize): a real mysql2 connection whose route and
// login are filled in after it was made. Private API used here, checked against mysql2 3.24.6:
// - `connection.config.{host, port, user, password, passwordSha1, database, authPlugins, ssl}`
//   are read by the handshake command (ClientHandshake#handshakeInit, #sendCredentials,
//   Connection#startTLS) when the server's greeting arrives, not before;
// - `connection.stream`, and the 'data', 'end', 'close' and 'error' listeners mysql2 puts on it
//   in its constructor: moved onto the real stream before anything was read from either;
// - `ConnectionConfig.parseUrl` (static, exported);
// - `connection.config` as a ConnectionConfig: every statement starts from it
//   (`ConnectionConfig.queryOptions(connection.config, queryOptions)` in Query#start and
//   Execute#start), and `format()` reads `stringifyObjects`, `timezone` and `queryFormat` from it;
//   so options set on it after the handshake apply as if given to createConnection.

/** mysql2's ConnectionConfig class: its static helpers. */
const connectionConfigClass = (
  mysql as unknown as { ConnectionConfig: { new (options: Record<string, unknown>): Record<string, unknown>; parseUrl(url: string): Record<string, unknown> } }
).ConnectionConfig;

/** A `mysql://user:password@host:port/database?option=value` URL as mysql2 reads it into options. */
export function parseConnectionUrl(url: string): Record<string, unknown> {
  return connectionConfigClass.parseUrl(url);
}

/**
 * A real mysql2 connection (callback API) from `options`, which must carry a `stream`. It starts
 * its handshake when the server's greeting arrives on that stream.
 */
export function createDriverConnection(options: mysql.ConnectionOptions): mysql.Connection {
  return mysql.createConnection(options);
}

/** Who logs in, for {@link fillInLogin}. */
export interface LateLogin {
  /** The server's name as TLS verifies it (and mysql2 reports it). */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string | undefined;
  readonly database: string | undefined;
  readonly authPlugins: Record<string, unknown> | undefined;
  readonly ssl: mysql.SslOptions | undefined;
}

/**
 * Sets the route and the login of a connection made by {@link createDriverConnection} whose
 * stream has not delivered the server's greeting yet: mysql2 reads them only then. Anything the
 * caller passed for them before is replaced (a password is never left from the options).
 */
export function fillInLogin(connection: mysql.Connection, login: LateLogin): void {
  const config = (connection as unknown as { config: Record<string, unknown> }).config;
  config['host'] = login.host;
  config['port'] = login.port;
  config['user'] = login.user;
  config['password'] = login.password;
  config['passwordSha1'] = undefined;
  config['database'] = login.database;
  config['authPlugins'] = login.authPlugins;
  config['ssl'] = login.ssl ?? false;
}

/** The events mysql2's constructor listens to on its stream (Connection constructor, 3.24.6). */
const STREAM_EVENTS = ['data', 'end', 'close', 'error'] as const;

/**
 * Moves a connection made by {@link createDriverConnection} on a placeholder stream onto the real
 * one, before anything was read: mysql2 then reads, writes, negotiates TLS and closes on the real
 * stream itself, with nothing in between. Every listener of those events moves: put none of
 * your own on `from`.
 */
export function moveToStream(connection: mysql.Connection, from: Duplex, to: Duplex): void {
  const internals = connection as unknown as { stream: Duplex };
  if (internals.stream !== from) throw new Error('moveToStream: the connection is not on the given stream');
  for (const event of STREAM_EVENTS) {
    for (const listener of from.listeners(event) as ((...args: unknown[]) => void)[]) {
      from.removeListener(event, listener);
      to.on(event, listener);
    }
  }
  internals.stream = to;
}

/**
 * mysql2 options that are read when a statement is formatted or its rows are parsed, never during
 * the handshake: the ones an ORM sets for how it reads results (timezone, typeCast,
 * dateStrings, bigNumberStrings, ...) and that can be given to a connection already open.
 */
export const STATEMENT_OPTIONS = [
  'supportBigNumbers',
  'bigNumberStrings',
  'decimalNumbers',
  'dateStrings',
  'typeCast',
  'timezone',
  'stringifyObjects',
  'jsonStrings',
  'rowsAsArray',
  'nestTables',
  'namedPlaceholders',
  'queryFormat',
  'infileStreamFactory',
  'disableEval',
] as const;

/** Statement options, as mysql2 normalizes them. */
export type StatementSettings = Readonly<Partial<Record<(typeof STATEMENT_OPTIONS)[number], unknown>>>;

/**
 * The statement options among `options`, normalized (defaults, timezone check) by mysql2's own
 * ConnectionConfig, for {@link applyStatementSettings}. Options not given are left out.
 */
export function statementSettings(options: Readonly<Record<string, unknown>>): StatementSettings {
  const given = STATEMENT_OPTIONS.filter((key) => options[key] !== undefined);
  const normalized = new connectionConfigClass(Object.fromEntries(given.map((key) => [key, options[key]])));
  return Object.fromEntries(given.map((key) => [key, normalized[key]]));
}

/** Gives an open connection statement options, as if they had been given to createConnection. */
export function applyStatementSettings(connection: mysql.Connection, settings: StatementSettings): void {
  Object.assign((connection as unknown as { config: object }).config, settings);
}
