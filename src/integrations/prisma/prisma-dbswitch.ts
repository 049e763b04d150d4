import {
  DriverAdapterError,
  type ConnectionInfo,
  type IsolationLevel,
  type SqlDriverAdapter,
  type SqlDriverAdapterFactory,
  type SqlQuery,
  type SqlQueryable,
  type SqlResultSet,
  type Transaction,
  type TransactionOptions,
} from '@prisma/driver-adapter-utils';
import type { FieldPacket, QueryOptions, ResultSetHeader } from 'mysql2';
import { DbSwitchError, isDbSwitchError } from '../../errors.js';
import { splitStatements } from '../../sql/split-statements.js';
import { columnType, driverArg, normalizeRow, READ_OPTIONS } from './column-types.js';
import { rethrowAsAdapterError } from './driver-errors.js';
import { asError, borrow, runQuery, type CallbackPool, type LentConnection, type PoolSource } from './pool-slice.js';

/** What Prisma shows as the adapter's name (in errors such as "... not supported by adapter"). */
const ADAPTER_NAME = 'dbswitch';

/** The isolation levels MySQL and MariaDB know (Prisma's SNAPSHOT is SQL Server's). */
const ISOLATION_LEVELS: ReadonlySet<IsolationLevel> = new Set(['READ UNCOMMITTED', 'READ COMMITTED', 'REPEATABLE READ', 'SERIALIZABLE']);

/** How the adapter is made. */
export interface PrismaDbSwitchOptions {
  /**
   * The schema (database) Prisma names in its queries' metadata. Default: the Db's `db.database`
   * (DB_NAME).
   */
  readonly schemaName?: string;
}

/**
 * Prisma 7's driver adapter over a dbswitch `Db` (provider `mysql`: MySQL 8, Aurora MySQL,
 * MariaDB). Prisma's queries borrow connections from the Db's pool (`db.pool()`), so pre-ping,
 * lifetime, session reset, IAM tokens and the SSH tunnel apply to them, whatever `DB_TYPE` says.
 * An interactive `$transaction` keeps one connection from BEGIN to COMMIT or ROLLBACK.
 * `$disconnect()` gives back what Prisma holds and leaves the Db open: `db.close()` closes it.
 *
 * Install `@prisma/client` and `@prisma/driver-adapter-utils` beside dbswitch, and generate the
 * client with `provider = "mysql"` in the datasource.
 *
 * @example
 * import { createDb } from 'dbswitch';
 * import { PrismaDbSwitch } from 'dbswitch/prisma';
 * import { PrismaClient } from './generated/prisma/client.js';
 *
 * const db = await createDb();
 * const prisma = new PrismaClient({ adapter: new PrismaDbSwitch(db) });
 * const users = await prisma.user.findMany();
 * await prisma.$disconnect();
 * await db.close();
 */
export class PrismaDbSwitch implements SqlDriverAdapterFactory {
  readonly provider = 'mysql';
  readonly adapterName = ADAPTER_NAME;
  readonly #db: PoolSource;
  readonly #options: PrismaDbSwitchOptions;
  /** What the server supports, asked once (on the first connect that reaches it). */
  #capabilities: Promise<Capabilities> | undefined;

  constructor(db: PoolSource, options: PrismaDbSwitchOptions = {}) {
    this.#db = db;
    this.#options = options;
  }

  /** Called by PrismaClient on its first query (or `$connect()`); again after `$disconnect()`. */
  async connect(): Promise<SqlDriverAdapter> {
    // A faithful subset of mysql2's Pool: the callback API the adapter calls.
    const pool = this.#db.pool() as unknown as CallbackPool;
    const capabilities = (this.#capabilities ??= serverCapabilities(pool));
    let supportsRelationJoins: boolean;
    try {
      ({ supportsRelationJoins } = await capabilities);
    } catch (err) {
      // Not cached: the next connect() asks again (the database may be reachable by then).
      this.#capabilities = undefined;
      rethrowAsAdapterError(err);
    }
    const schemaName = this.#options.schemaName ?? this.#db.config.db.database;
    return new DbSwitchAdapter(pool, { supportsRelationJoins, ...(schemaName === undefined ? {} : { schemaName }) });
  }
}

/** What Prisma may ask of the server. */
interface Capabilities {
  /** `relationJoins` (one query with JSON aggregation): MySQL 8.0.13 and later, not MariaDB. */
  readonly supportsRelationJoins: boolean;
}

async function serverCapabilities(pool: CallbackPool): Promise<Capabilities> {
  const connection = await borrow(pool);
  let rows: unknown;
  try {
    [rows] = await runQuery(connection, { sql: 'SELECT VERSION()', rowsAsArray: true }, []);
    connection.release();
  } catch (err) {
    giveBackAfter(connection, err);
    throw err;
  }
  const version = (rows as unknown[][])[0]?.[0];
  return { supportsRelationJoins: typeof version === 'string' && supportsRelationJoins(version) };
}

/** `8.0.36` yes; `8.0.12`, `5.7.44`, `11.4.2-MariaDB` no. */
function supportsRelationJoins(version: string): boolean {
  if (/mariadb/i.test(version)) return false;
  const [major = 0, minor = 0, patch = 0] = version.split(/[.-]/).map((part) => Number.parseInt(part, 10));
  return major > 8 || (major === 8 && (minor > 0 || patch >= 13));
}

/** Statements on the pool (a connection borrowed for each) or on a transaction's connection. */
abstract class DbSwitchQueryable implements SqlQueryable {
  readonly provider = 'mysql';
  readonly adapterName = ADAPTER_NAME;

  async queryRaw(query: SqlQuery): Promise<SqlResultSet> {
    const [result, fields] = await this.run(query);
    return resultSet(result, fields);
  }

  async executeRaw(query: SqlQuery): Promise<number> {
    const [result] = await this.run(query);
    return isHeader(result) ? result.affectedRows : 0;
  }

  /** Runs one statement with the adapter's read options; a mysql2 error becomes Prisma's. */
  protected async run(query: SqlQuery): Promise<[unknown, FieldPacket[] | undefined]> {
    const values = query.args.map((arg, i) => driverArg(arg, query.argTypes[i]));
    try {
      return await this.send({ sql: query.sql, ...READ_OPTIONS }, values);
    } catch (err) {
      rethrowAsAdapterError(err);
    }
  }

  /** Sends a statement to the database: on a connection of its own, or the transaction's. */
  protected abstract send(options: QueryOptions, values: unknown[]): Promise<[unknown, FieldPacket[] | undefined]>;
}

/** What Prisma gets from `connect()`: the pool for single statements, a connection per transaction. */
class DbSwitchAdapter extends DbSwitchQueryable implements SqlDriverAdapter {
  readonly #pool: CallbackPool;
  readonly #info: ConnectionInfo;
  /** Transactions begun and not yet ended: rolled back by dispose(). */
  readonly #open = new Set<DbSwitchTransaction>();
  #disposed = false;

  constructor(pool: CallbackPool, info: ConnectionInfo) {
    super();
    this.#pool = pool;
    this.#info = info;
  }

  getConnectionInfo(): ConnectionInfo {
    return this.#info;
  }

  protected override run(query: SqlQuery): Promise<[unknown, FieldPacket[] | undefined]> {
    this.#assertOpen();
    return super.run(query);
  }

  /**
   * Borrows a connection for the statement and gives it back before the caller hears the result,
   * so the caller's next statement finds it idle (one broken under the statement is closed).
   */
  protected send(options: QueryOptions, values: unknown[]): Promise<[unknown, FieldPacket[] | undefined]> {
    // Callbacks, not two awaits: this is the path of every query outside a transaction.
    return new Promise((resolve, reject) => {
      this.#pool.getConnection((borrowError, connection) => {
        if (connection === undefined) {
          reject(asError(borrowError ?? new Error('the pool lent no connection')));
          return;
        }
        connection.query(options, values, (err, result, fields) => {
          if (err === null || err === undefined) {
            connection.release();
            resolve([result, fields]);
          } else {
            giveBackAfter(connection, err);
            reject(asError(err));
          }
        });
      });
    });
  }

  /**
   * Borrows a connection and begins a transaction on it, at `isolationLevel` for this transaction
   * only; the connection goes back to the pool at commit or rollback.
   */
  async startTransaction(isolationLevel?: IsolationLevel): Promise<Transaction> {
    this.#assertOpen();
    if (isolationLevel !== undefined && !ISOLATION_LEVELS.has(isolationLevel)) {
      throw new DriverAdapterError({ kind: 'InvalidIsolationLevel', level: isolationLevel });
    }
    const connection = await borrow(this.#pool).catch(rethrowAsAdapterError);
    const tx = new DbSwitchTransaction(connection, () => this.#open.delete(tx));
    this.#open.add(tx);
    await tx.begin(isolationLevel);
    return tx;
  }

  /**
   * Runs a script of `;`-separated statements, one by one on one connection (no connection
   * runs in multi-statement mode). There is no `DELIMITER`: a stored program body cannot be given.
   */
  async executeScript(script: string): Promise<void> {
    this.#assertOpen();
    let statements: string[];
    try {
      statements = splitStatements(script);
    } catch (err) {
      throw new DbSwitchError('EUSAGE', `executeScript(): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const connection = await borrow(this.#pool).catch(rethrowAsAdapterError);
    try {
      for (const sql of statements) await runQuery(connection, { sql }, []);
      connection.release();
    } catch (err) {
      giveBackAfter(connection, err);
      rethrowAsAdapterError(err);
    }
  }

  /** `$disconnect()`: rolls back the transactions Prisma left open. The Db stays open. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    // Each one's connection is given back whatever its ROLLBACK says (and the pool's cleanup
    // rolls back what the server still holds); the first failure is still reported.
    const results = await Promise.allSettled([...this.#open].map((tx) => tx.rollback()));
    const failed = results.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  #assertOpen(): void {
    if (this.#disposed) {
      throw new DbSwitchError('ECLOSED', "this Prisma adapter was disposed ($disconnect()); PrismaClient makes a new one on its next query, from the Db (still open until db.close())");
    }
  }
}

/** A transaction's life: its connection is lent from BEGIN until COMMIT or ROLLBACK, then given back once. */
type TransactionPhase = { readonly name: 'open' } | { readonly name: 'ended'; readonly how: 'committed' | 'rolled back' | 'failed to begin' };

/** One interactive transaction on one connection from the pool. */
class DbSwitchTransaction extends DbSwitchQueryable implements Transaction {
  // The adapter sends BEGIN itself; Prisma only logs it.
  readonly options: TransactionOptions = { usePhantomQuery: true };
  readonly #connection: LentConnection;
  readonly #onEnd: () => void;
  #phase: TransactionPhase = { name: 'open' };
  /** Set when a statement failed because the connection broke: it is closed, not pooled. */
  #broken = false;

  constructor(connection: LentConnection, onEnd: () => void) {
    super();
    this.#connection = connection;
    this.#onEnd = onEnd;
  }

  /** Sends BEGIN (after the one-shot isolation level); on failure, gives the connection back. */
  async begin(isolationLevel: IsolationLevel | undefined): Promise<void> {
    try {
      if (isolationLevel !== undefined) await super.run(control(`SET TRANSACTION ISOLATION LEVEL ${isolationLevel}`));
      await super.run(control('BEGIN'));
    } catch (err) {
      this.#end('failed to begin');
      throw err;
    }
  }

  protected override run(query: SqlQuery): Promise<[unknown, FieldPacket[] | undefined]> {
    if (this.#phase.name === 'ended') {
      return Promise.reject(new DriverAdapterError({ kind: 'TransactionAlreadyClosed', cause: `the transaction was ${this.#phase.how}` }));
    }
    return super.run(query);
  }

  protected async send(options: QueryOptions, values: unknown[]): Promise<[unknown, FieldPacket[] | undefined]> {
    try {
      return await runQuery(this.#connection, options, values);
    } catch (err) {
      if (isFatal(err)) this.#broken = true;
      throw err;
    }
  }

  async commit(): Promise<void> {
    try {
      await this.run(control('COMMIT'));
    } finally {
      this.#end('committed');
    }
  }

  async rollback(): Promise<void> {
    if (this.#phase.name === 'ended') return;
    try {
      await this.run(control('ROLLBACK'));
    } catch (err) {
      // A connection that broke took its transaction with it: the rollback has happened.
      if (!isConnectionClosed(err)) throw err;
    } finally {
      this.#end('rolled back');
    }
  }

  async createSavepoint(name: string): Promise<void> {
    await this.run(control(`SAVEPOINT ${name}`));
  }

  async rollbackToSavepoint(name: string): Promise<void> {
    await this.run(control(`ROLLBACK TO SAVEPOINT ${name}`));
  }

  async releaseSavepoint(name: string): Promise<void> {
    await this.run(control(`RELEASE SAVEPOINT ${name}`));
  }

  /** Gives the connection back, once. A broken one is closed by the pool, not lent again. */
  #end(how: 'committed' | 'rolled back' | 'failed to begin'): void {
    if (this.#phase.name === 'ended') return;
    this.#phase = { name: 'ended', how };
    if (this.#broken) this.#connection.destroy();
    else this.#connection.release();
    this.#onEnd();
  }
}

/** Gives a connection back after `err`: closed when the error broke it, pooled otherwise. */
function giveBackAfter(connection: LentConnection, err: unknown): void {
  if (isFatal(err)) connection.destroy();
  else connection.release();
}

/** mysql2 marks the errors after which its connection is unusable. */
function isFatal(err: unknown): boolean {
  return (err as { fatal?: unknown } | null)?.fatal === true;
}

function control(sql: string): SqlQuery {
  return { sql, args: [], argTypes: [] };
}

function isConnectionClosed(err: unknown): boolean {
  return (err instanceof DriverAdapterError && err.cause.kind === 'ConnectionClosed') || isDbSwitchError(err, 'ECONNECTION_LOST');
}

function isHeader(result: unknown): result is ResultSetHeader {
  return typeof result === 'object' && result !== null && !Array.isArray(result) && 'affectedRows' in result;
}

/** A mysql2 result as Prisma reads it: column names and types, rows as arrays, the last insert id. */
function resultSet(result: unknown, fields: FieldPacket[] | undefined): SqlResultSet {
  if (isHeader(result)) return { columnNames: [], columnTypes: [], rows: [], lastInsertId: String(result.insertId) };
  // A CALL answers with its result sets and a final header: Prisma reads the first one.
  const first: unknown = fields?.[0];
  const [rows, columns]: [unknown, FieldPacket[]] = Array.isArray(first) ? [(result as unknown[])[0], first as FieldPacket[]] : [result, fields ?? []];
  const columnTypes = columns.map(columnType);
  return {
    columnNames: columns.map((field) => field.name),
    columnTypes,
    rows: Array.isArray(rows) ? (rows as unknown[][]).map((row) => normalizeRow(row, columnTypes)) : [],
  };
}
