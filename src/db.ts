import { inject, injectable } from 'inversify';
import type { DbSwitchConfig } from './config/config.js';
import { CONFIG } from './container/tokens.js';
import { DbProvider, type AuthReport, type RouteHop } from './db-provider.js';
import { DbSession } from './db-session.js';
import { DbSwitchError } from './errors.js';
import type { PoolStats } from './pool/connection-pool.js';

/**
 * What an application holds: sessions in three shapes, and close(). Made by `createDb()`.
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
  #closed: Promise<void> | undefined;

  constructor(@inject(DbProvider) provider: DbProvider, @inject(CONFIG) config: DbSwitchConfig) {
    this.#provider = provider;
    this.#config = config;
  }

  /** The validated configuration this Db runs with. */
  get config(): DbSwitchConfig {
    return this.#config;
  }

  /** Connections open, idle, leased; sessions waiting. */
  get stats(): PoolStats {
    return this.#provider.stats;
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
   * Waits for sessions in flight (up to `pool.closeTimeoutMs`), then closes every connection
   * (and the tunnel). Idempotent; using the Db afterwards is an ECLOSED error.
   */
  close(): Promise<void> {
    this.#closed ??= this.#provider.close(this.#config.pool.closeTimeoutMs);
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #newSession(): DbSession {
    if (this.#closed !== undefined) {
      throw new DbSwitchError('ECLOSED', 'this Db has been closed; create a new one with createDb()');
    }
    return new DbSession(this.#provider);
  }
}
