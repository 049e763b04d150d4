import type { AwsServices } from '../aws/aws-services.js';
import type { ConfigSource, DbSwitchConfig } from '../config/config.js';
import { DbProvider, type AuthReport } from '../db-provider.js';
import { isDbSwitchError } from '../errors.js';
import type { Logger } from '../logging/create-logger.js';
import { ConnectionPool, type PoolStats } from '../pool/connection-pool.js';
import type { OpenedConnection, PooledConnection } from '../pool/pooled-connection.js';
import { ConnectionSettingsSource, type ConnectionSettings } from './connection-settings.js';

/**
 * A provider that pools its connections; subclasses say how to open one (stream and TLS) for
 * the settings of the moment (config, secret, IAM token) and, if they hold more than connections
 * (a tunnel), what to free after the linger.
 */
export abstract class PooledProvider extends DbProvider {
  protected readonly settings: ConnectionSettingsSource;
  readonly #pool: ConnectionPool;

  constructor(config: DbSwitchConfig, logger: Logger, aws: AwsServices, sources?: ReadonlyMap<string, ConfigSource>) {
    super(config, logger);
    this.settings = new ConnectionSettingsSource(config, aws, logger, sources);
    this.#pool = new ConnectionPool(
      { ...config.pool, pingTimeoutMs: config.db.connectTimeoutMs },
      { open: () => this.#open(), linger: () => this.afterLinger() },
      logger,
    );
  }

  /** Opens one new, authenticated connection with these settings. */
  protected abstract openConnection(settings: ConnectionSettings): Promise<OpenedConnection>;

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

  /** Where and as whom an external tool logs in (with a fresh token for IAM). */
  clientSettings(): Promise<Omit<ConnectionSettings, 'authPlugins'>> {
    return this.settings.forClient();
  }

  override auth(): AuthReport {
    return { method: this.config.db.auth, token: this.settings.tokens?.report };
  }

  async #open(): Promise<OpenedConnection> {
    try {
      return await this.openConnection(await this.settings.settings());
    } catch (err) {
      // A rotated secret: the password in the cached secret is stale. Fetch it again, once.
      if (isDbSwitchError(err, 'EAUTH') && (await this.settings.afterAccessDenied())) {
        return this.openConnection(await this.settings.settings());
      }
      throw err;
    }
  }
}
