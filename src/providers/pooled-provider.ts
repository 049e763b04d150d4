import type { DbSwitchConfig } from '../config/config.js';
import { DbProvider } from '../db-provider.js';
import type { Logger } from '../logging/create-logger.js';
import { ConnectionPool, type PoolStats } from '../pool/connection-pool.js';
import type { OpenedConnection, PooledConnection } from '../pool/pooled-connection.js';

/**
 * A provider that pools its connections; subclasses say how to open one (stream, credentials,
 * TLS) and, if they hold more than connections (a tunnel), what to free after the linger.
 */
export abstract class PooledProvider extends DbProvider {
  readonly #pool: ConnectionPool;

  constructor(config: DbSwitchConfig, logger: Logger) {
    super(config, logger);
    this.#pool = new ConnectionPool(
      { ...config.pool, pingTimeoutMs: config.db.connectTimeoutMs },
      { open: () => this.openConnection(), linger: () => this.afterLinger() },
      logger,
    );
  }

  /** Opens one new, authenticated connection. */
  protected abstract openConnection(): Promise<OpenedConnection>;

  /** The last session ended `pool.lingerMs` ago and idle connections are closed. */
  protected afterLinger(): Promise<void> {
    return Promise.resolve();
  }

  acquire(): Promise<PooledConnection> {
    return this.#pool.acquire();
  }

  release(conn: PooledConnection): void {
    this.#pool.release(conn);
  }

  destroy(conn: PooledConnection): void {
    this.#pool.destroy(conn);
  }

  close(timeoutMs: number): Promise<void> {
    return this.#pool.close(timeoutMs);
  }

  get stats(): PoolStats {
    return this.#pool.stats;
  }
}
