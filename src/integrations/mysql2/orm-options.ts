import { parseConnectionUrl, STATEMENT_OPTIONS } from '../../driver/mysql2.js';
import { DbSwitchError } from '../../errors.js';

/** mysql2 options as an ORM hands them to `createPool` / `createConnection`. */
export type DriverOptions = Readonly<Record<string, unknown>>;

/**
 * dbswitch's business, whatever the ORM fills in (Sequelize defaults host to localhost, TypeORM
 * passes its own host, port and credentials): the route, the credentials, TLS and the connect
 * timeout come from dbswitch's configuration (DB_TYPE, DB_HOST, DB_TLS, ...).
 */
const ROUTE_OPTIONS = new Set([
  'host', 'port', 'socketPath', 'localAddress', 'stream', 'uri', 'isServer',
  'user', 'password', 'password1', 'password2', 'password3', 'passwordSha1',
  'authPlugins', 'authSwitchHandler', 'enableCleartextPlugin', 'insecureAuth',
  'ssl', 'connectTimeout',
]);

/** The pool's business (createPool): dbswitch's pool sizes, waits, keeps alive and resets. */
const POOL_OPTIONS = new Set([
  'connectionLimit', 'maxIdle', 'idleTimeout', 'queueLimit', 'waitForConnections', 'acquireTimeout',
  'resetOnRelease', 'enableKeepAlive', 'keepAliveInitialDelay', 'Promise', 'gracefulEnd', 'maxPreparedStatements',
]);

/**
 * Options of the handshake, which dbswitch's pool makes with its own: createPool refuses them
 * rather than ignoring them (createConnection passes them on).
 */
const HANDSHAKE_OPTIONS = ['flags', 'multipleStatements', 'compress', 'charsetNumber'] as const;

/** Statement options mysql2 reads from the connection only, never from a query's own options. */
const CONNECTION_ONLY_OPTIONS = ['decimalNumbers', 'jsonStrings', 'queryFormat'] as const;

/** What createPool makes of an ORM's options. */
export interface PoolRequest {
  /** The login database: the ORM's, else `db.database` (DB_NAME). */
  readonly database: string | undefined;
  /** The connection charset: the ORM's, else `db.charset` (DB_CHARSET). */
  readonly charset: string | undefined;
  /** How statements are formatted and rows parsed (timezone, typeCast, dateStrings, ...): mysql2's statement options the ORM gave. */
  readonly statementOptions: Readonly<Record<string, unknown>>;
}

/** What createConnection makes of an ORM's options. */
export interface ConnectionRequest {
  /** The login database: the ORM's, else the configured one. */
  readonly database: string | undefined;
  /** The connection charset: the ORM's, else `db.charset` (DB_CHARSET). */
  readonly charset: string | undefined;
  /** Everything else, for the real mysql2 connection (typeCast, timezone, flags, ...). */
  readonly driverOptions: Readonly<Record<string, unknown>>;
}

/**
 * Splits an ORM's pool options: route, credentials and pool settings dropped (dbswitch's), the
 * database and charset kept for the login, the statement options kept for the connections.
 *
 * @throws DbSwitchError EUSAGE for a handshake option dbswitch's pool cannot honour.
 */
export function poolRequest(input: DriverOptions | string | undefined): PoolRequest {
  const options = withUrl(input);
  refuse(options, HANDSHAKE_OPTIONS, 'mysql2 sends them in the handshake, which dbswitch\'s pool makes with its own');
  const statementOptions: Record<string, unknown> = {};
  for (const key of STATEMENT_OPTIONS) if (options[key] !== undefined) statementOptions[key] = options[key];
  return { database: optionalString(options, 'database'), charset: optionalString(options, 'charset'), statementOptions };
}

/**
 * The statement options of a pool over a Db of the application's (`mysql2Driver(db)`), whose
 * connections are shared: they go with every query instead of on the connections.
 *
 * @throws DbSwitchError EUSAGE for options mysql2 reads from the connection only.
 */
export function sharedPoolOptions(request: PoolRequest): { queryDefaults: Readonly<Record<string, unknown>>; timezone: string | undefined } {
  refuse(request.statementOptions, CONNECTION_ONLY_OPTIONS, 'mysql2 reads them from the connection only, and mysql2Driver(db) shares the Db\'s connections; use mysql2Driver() instead');
  // stringifyObjects only decides what an object after SET becomes (mysql2 3.24's escaper writes
  // '[object Object]' for one anywhere else): not worth formatting every statement anew.
  const { stringifyObjects: _stringifyObjects, ...queryDefaults } = request.statementOptions;
  const timezone = queryDefaults['timezone'];
  return { queryDefaults, timezone: typeof timezone === 'string' ? timezone : undefined };
}

/** Splits an ORM's connection options: route and credentials dropped, the rest for mysql2. */
export function connectionRequest(input: DriverOptions | string | undefined): ConnectionRequest {
  const options = withUrl(input);
  const driverOptions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || ROUTE_OPTIONS.has(key) || POOL_OPTIONS.has(key) || key === 'database' || key === 'charset') continue;
    driverOptions[key] = value;
  }
  return { database: optionalString(options, 'database'), charset: optionalString(options, 'charset'), driverOptions };
}

function refuse(options: DriverOptions, keys: readonly string[], why: string): void {
  const refused = keys.filter((key) => isSet(options[key]));
  if (refused.length > 0) {
    throw new DbSwitchError('EUSAGE', `dbswitch/mysql2 createPool: ${refused.join(', ')} cannot be set by the ORM: ${why}. Leave them out of the ORM's options (TypeORM: also of \`extra\`).`);
  }
}

/** mysql2 reads a URL (`createPool('mysql://...')`, or the `uri` option) into options; so does this. */
function withUrl(input: DriverOptions | string | undefined): DriverOptions {
  if (input === undefined) return {};
  if (typeof input === 'string') return parseConnectionUrl(input);
  const uri = input['uri'];
  return typeof uri === 'string' ? { ...parseConnectionUrl(uri), ...input } : input;
}

function optionalString(options: DriverOptions, key: string): string | undefined {
  const value = options[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new DbSwitchError('EUSAGE', `dbswitch/mysql2: the option ${key} must be a string; got ${typeof value}`);
  return value;
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && value !== false && value !== '' && !(Array.isArray(value) && value.length === 0);
}
