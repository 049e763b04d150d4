import { DriverAdapterError, type MappedError } from '@prisma/driver-adapter-utils';

/** What mysql2 puts on the errors it reports (the server's, and its own). */
interface Mysql2Error {
  readonly errno?: unknown;
  readonly code?: unknown;
  readonly sqlMessage?: unknown;
  readonly sqlState?: unknown;
  readonly fatal?: unknown;
  readonly message?: unknown;
}

// Server errors meaning the connection is gone: ER_CONNECTION_KILLED (MariaDB), CR_SERVER_GONE_ERROR,
// CR_SERVER_LOST, ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8: wait_timeout).
const CONNECTION_GONE = new Set([1927, 2006, 2013, 4031]);

/**
 * Rethrows `err` as Prisma expects it from a driver adapter: a server error as a
 * `DriverAdapterError` of the kind Prisma turns into its P-codes (duplicate key: P2002, foreign
 * key: P2003, null constraint: P2011, ...), with the server's errno and message, as
 * `@prisma/adapter-mariadb` does; a connection that broke (KILL, a restart, the tunnel) as
 * `ConnectionClosed` (P1017). dbswitch's own errors (`DbSwitchError`: ETUNNEL, EACQUIRE_TIMEOUT,
 * ECLOSED, ...) are thrown as they are, so the application still sees their code.
 */
export function rethrowAsAdapterError(err: unknown): never {
  throw adapterError(err) ?? err;
}

/** The DriverAdapterError for a mysql2 error; undefined for any other error. */
export function adapterError(err: unknown): DriverAdapterError | undefined {
  if (typeof err !== 'object' || err === null || err instanceof DriverAdapterError) return undefined;
  const error = err as Mysql2Error;
  if (typeof error.errno === 'number' && typeof error.sqlMessage === 'string') {
    return new DriverAdapterError({
      originalCode: String(error.errno),
      originalMessage: error.sqlMessage,
      ...mapServerError(error.errno, error.sqlMessage, typeof error.sqlState === 'string' ? error.sqlState : 'N/A'),
    });
  }
  // mysql2's own fatal errors: the socket closed or failed under it (PROTOCOL_CONNECTION_LOST,
  // ECONNRESET, a command on a closed connection).
  if (error.fatal === true) {
    return new DriverAdapterError({
      kind: 'ConnectionClosed',
      ...(typeof error.code === 'string' ? { originalCode: error.code } : {}),
      ...(typeof error.message === 'string' ? { originalMessage: error.message } : {}),
    });
  }
  return undefined;
}

/** The kind of a server error, read from its errno and message as @prisma/adapter-mariadb reads them. */
function mapServerError(errno: number, message: string, state: string): MappedError {
  const words = message.split(' ');
  switch (errno) {
    case 1062: {
      // Duplicate entry '1' for key 'table.index' (MySQL 8) / key 'index' (MariaDB)
      const key = quoted(words.at(-1), "'");
      const parts = key?.split('.');
      const index = parts?.at(-1);
      return {
        kind: 'UniqueConstraintViolation',
        ...(index === undefined ? {} : { constraint: { index } }),
        ...(parts !== undefined && parts.length > 1 ? { table: parts.slice(0, -1).join('.') } : {}),
      };
    }
    case 1451:
    case 1452: {
      // Cannot add or update a child row: a foreign key constraint fails (`db`.`t`, CONSTRAINT `fk` FOREIGN KEY (`col`) ...
      const field = /FOREIGN KEY \(`([^`]+)`/.exec(message)?.[1];
      return { kind: 'ForeignKeyConstraintViolation', ...(field === undefined ? {} : { constraint: { fields: [field] } }) };
    }
    case 1263: {
      const index = quoted(words.at(-1), "'");
      return { kind: 'NullConstraintViolation', ...(index === undefined ? {} : { constraint: { index } }) };
    }
    case 1048:
    case 1364: {
      // Column 'name' cannot be null / Field 'name' doesn't have a default value
      const field = quoted(words.at(1), "'");
      return { kind: 'NullConstraintViolation', ...(field === undefined ? {} : { constraint: { fields: [field] } }) };
    }
    case 1264:
      return { kind: 'ValueOutOfRange', cause: message };
    case 1049: {
      const db = quoted(words.at(-1), "'");
      return { kind: 'DatabaseDoesNotExist', ...(db === undefined ? {} : { db }) };
    }
    case 1007: {
      const db = quoted(words.at(3), "'");
      return { kind: 'DatabaseAlreadyExists', ...(db === undefined ? {} : { db }) };
    }
    case 1044: {
      const db = quoted(words.at(-1), "'");
      return { kind: 'DatabaseAccessDenied', ...(db === undefined ? {} : { db }) };
    }
    case 1045: {
      const user = quoted(words.at(4)?.split('@')[0], "'");
      return { kind: 'AuthenticationFailed', ...(user === undefined ? {} : { user }) };
    }
    case 1146: {
      // Table 'db.t' doesn't exist
      const table = quoted(words.at(1), "'")?.split('.').at(-1);
      return { kind: 'TableDoesNotExist', ...(table === undefined ? {} : { table }) };
    }
    case 1054: {
      // Unknown column 'x' in 'field list'
      const column = quoted(words.at(2), "'");
      return { kind: 'ColumnNotFound', ...(column === undefined ? {} : { column }) };
    }
    case 1406: {
      // Data too long for column 'name' at row 1
      const column = /column '([^']+)'/.exec(message)?.[1];
      return { kind: 'LengthMismatch', ...(column === undefined ? {} : { column }) };
    }
    case 1191:
      return { kind: 'MissingFullTextSearchIndex' };
    case 1213:
      return { kind: 'TransactionWriteConflict' };
    case 1040:
    case 1203:
      return { kind: 'TooManyConnections', cause: message };
    default:
      if (CONNECTION_GONE.has(errno)) return { kind: 'ConnectionClosed' };
      return { kind: 'mysql', code: errno, message, state };
  }
}

/** `'x'` -> `x` (also with text before the first quote); undefined when there is no quoted part. */
function quoted(word: string | undefined, quote: string): string | undefined {
  if (word === undefined) return undefined;
  const parts = word.split(quote);
  return parts.length >= 3 ? parts[1] : undefined;
}
