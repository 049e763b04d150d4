import { inject, injectable } from 'inversify';
import type { DbSwitchConfig } from '../config/config.js';
import { settings } from '../config/schema.js';
import { settingLabel } from '../config/setting-label.js';
import { CONFIG } from '../config/tokens.js';
import { DbProvider, type AuthReport, type RouteHop, type ToolEndpoint, type ToolEndpointOptions } from '../db-provider.js';
import { DbSession, type SessionOptions } from '../db-session.js';
import { DbSwitchError } from '../errors.js';
import { LOGGER, type Logger } from '../logging/logger.js';
import type { Pool } from 'mysql2';
import { PoolFacade } from '../mysql2-compat/pool-facade.js';
import { ConnectionPool, type PoolStats } from '../pool/connection-pool.js';
import { giveUpError } from '../pool/give-up-error.js';
import { wasNotSent, type PooledConnection } from '../pool/pooled-connection.js';
import { redactSql } from '../sql/redact-sql.js';
import { changesUntrackedState, switchesSchema } from '../sql/session-state-hints.js';
import { splitStatements } from '../sql/split-statements.js';

/** How long a cancel (opening the control connection and KILL QUERY) may take at most. */
const MAX_CANCEL_MS = 5000;
/** After a kill, how long the server may take to stop the statement before its connection is closed. */
const SETTLE_AFTER_KILL_MS = 2000;

type DbPhase = { readonly name: 'open' } | { readonly name: 'closed'; readonly done: Promise<void> };

/**
 * What an application holds: sessions in three shapes, and close(). Made by `createDb()`. It owns
 * the one pool; the provider only says how to reach the database.
 *
 * @example
 * const db = await createDb();
 * for await (const s of db.getDb()) {
 *   const [rows] = await s.query('SELECT ? AS x', [1]);
 * }
 * await db.close();
 */
@injectable()
export class Db implements AsyncDisposable {
  readonly #provider: DbProvider;
  readonly #config: DbSwitchConfig;
  readonly #pool: ConnectionPool;
  readonly #sessionOptions: SessionOptions;
  #phase: DbPhase = { name: 'open' };

  constructor(@inject(DbProvider) provider: DbProvider, @inject(CONFIG) config: DbSwitchConfig, @inject(LOGGER) logger: Logger) {
    this.#provider = provider;
    this.#config = config;
    const { db, pool } = config;
    const cancelTimeoutMs = Math.min(db.connectTimeoutMs, MAX_CANCEL_MS);
    this.#pool = new ConnectionPool(
      provider,
      {
        ...pool,
        pingTimeoutMs: db.connectTimeoutMs,
        cancelTimeoutMs,
        settleTimeoutMs: cancelTimeoutMs + SETTLE_AFTER_KILL_MS,
        cleanupTimeoutMs: db.connectTimeoutMs,
        initSql: initStatements(db.initSql),
        database: db.database,
      },
      { changesUntrackedState, switchesSchema },
      logger,
    );
    this.#sessionOptions = {
      statementTimeoutMs: db.statementTimeoutMs,
      wasNotSent,
      giveUpError,
      onStatement: config.log.queries
        ? (sql, parameters) => {
            logger.info({ sql: redactSql(sql), parameters }, 'query');
          }
        : undefined,
    };
  }

  /** The validated configuration this Db runs with, secrets masked. */
  get config(): DbSwitchConfig {
    return maskSecrets(this.#config);
  }

  /** Connections open, idle, leased; sessions waiting. */
  get stats(): PoolStats {
    return this.#pool.stats;
  }

  /** The hops to the database (for diagnostics). */
  route(): readonly RouteHop[] {
    return this.#provider.route();
  }

  /** How the database user authenticates (for diagnostics; never a secret). */
  auth(): AuthReport {
    return this.#provider.auth();
  }

  /**
   * Where a program outside this process logs in (`dbswitch exec` and `tunnel`): the database
   * itself, or a port on 127.0.0.1 forwarded through the bastion until `close()` of the result.
   */
  toolEndpoint(options: ToolEndpointOptions): Promise<ToolEndpoint> {
    this.#assertOpen();
    return this.#provider.toolEndpoint(options);
  }

  /**
   * A mysql2-compatible pool (callback API; `.promise()` for the promise one) whose connections
   * are this Db's: pre-ping, lifetime, reaping, session isolation, cancellation, IAM tokens and SSH
   * channels apply to every ORM built on it. Each call gives a facade of its own over the same
   * connections: its `end()` (an ORM's destroy) ends that facade only; the Db stays open until
   * `db.close()`. An ORM's per-connection setup (Kysely `onCreateConnection`, Knex `afterCreate`)
   * runs again on a connection whose session state was reset; prefer `DB_INIT_SQL` for settings.
   *
   * @example
   * const kysely = new Kysely<DB>({ dialect: new MysqlDialect({ pool: db.pool() }) });
   * const orm = drizzle({ client: db.pool().promise() });
   */
  pool(): Pool {
    this.#assertOpen();
    const facade = new PoolFacade(this.#pool, { connectionLimit: this.#config.pool.max });
    // A faithful subset of mysql2's Pool: what ORMs and mysql2's own promise pool call on one.
    return facade as unknown as Pool;
  }

  /**
   * Yields one session and releases it when the loop ends, however it ends (the shape of
   * SQLAlchemy's `get_db()` dependency, per request and not global).
   */
  async *getDb(): AsyncGenerator<DbSession, void, undefined> {
    const session = this.#newSession();
    try {
      yield session;
    } finally {
      await session.release();
    }
  }

  /**
   * A session to release yourself, best with `await using`.
   *
   * @example
   * { await using s = await db.session(); await s.query('SELECT 1'); }
   */
  session(): Promise<DbSession> {
    return Promise.resolve().then(() => this.#newSession());
  }

  /** Runs `fn` with a session and releases it afterwards, also when `fn` throws. */
  async withSession<T>(fn: (session: DbSession) => Promise<T>): Promise<T> {
    const session = this.#newSession();
    try {
      return await fn(session);
    } finally {
      await session.release();
    }
  }

  /**
   * Waits for sessions in flight (up to `pool.closeTimeoutMs`), then cancels on the server what
   * still runs and closes every connection (and the tunnel). Idempotent; using the Db afterwards
   * is an ECLOSED error.
   */
  close(): Promise<void> {
    if (this.#phase.name === 'closed') return this.#phase.done;
    const done = this.#pool.close(this.#config.pool.closeTimeoutMs);
    this.#phase = { name: 'closed', done };
    return done;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #newSession(): DbSession {
    this.#assertOpen();
    return new DbSession<PooledConnection>(this.#pool, this.#sessionOptions);
  }

  #assertOpen(): void {
    if (this.#phase.name === 'closed') {
      throw new DbSwitchError('ECLOSED', 'this Db has been closed; create a new one with createDb()');
    }
  }
}

/** DB_INIT_SQL as statements; a text that cannot be split is a configuration error naming it. */
function initStatements(text: string | undefined): string[] {
  if (text === undefined) return [];
  try {
    return splitStatements(text);
  } catch (err) {
    throw new DbSwitchError('ECONFIG', `${settingLabel('db.initSql')}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

const MASK = '********';

/** The configuration with every sensitive value (passwords, keys) replaced by a mask. */
function maskSecrets(config: DbSwitchConfig): DbSwitchConfig {
  const copy = structuredClone(config) as unknown as Record<string, Record<string, unknown>>;
  for (const setting of settings) {
    const section = copy[setting.section];
    if (setting.sensitive === true && section !== undefined && section[setting.name] !== undefined) section[setting.name] = MASK;
  }
  return copy as unknown as DbSwitchConfig;
}
