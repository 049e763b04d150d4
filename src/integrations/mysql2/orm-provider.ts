import type { AuthReport, ProvidedConnection, RouteHop, ToolEndpoint, ToolEndpointOptions } from '../../db-provider.js';
import { DbProvider } from '../../db-provider.js';
import { applyStatementSettings, type StatementSettings } from '../../driver/mysql2.js';

/**
 * The provider of a Db that dbswitch/mysql2 makes for an ORM's pool: the configured provider,
 * whose every new connection also takes the ORM's statement options (timezone, typeCast,
 * dateStrings, bigNumberStrings, ...), as if the ORM had made it with mysql2's createPool. The
 * Db and its connections serve that ORM only. Of dbswitch's own statements, only the pool's read
 * of `@@wait_timeout` (to keep lifetimes below it) reads a value, and it falls back to
 * DB_POOL_MAX_LIFETIME_MS when the options make that value unreadable (rowsAsArray, a typeCast).
 */
export class OrmConnectionsProvider extends DbProvider {
  readonly #provider: DbProvider;
  readonly #settings: StatementSettings;

  constructor(provider: DbProvider, settings: StatementSettings) {
    super();
    this.#provider = provider;
    this.#settings = settings;
  }

  async connect(): Promise<ProvidedConnection> {
    const provided = await this.#provider.connect();
    applyStatementSettings(provided.connection, this.#settings);
    return provided;
  }

  route(): readonly RouteHop[] {
    return this.#provider.route();
  }

  toolEndpoint(options: ToolEndpointOptions): Promise<ToolEndpoint> {
    return this.#provider.toolEndpoint(options);
  }

  override auth(): AuthReport {
    return this.#provider.auth();
  }

  override close(): Promise<void> {
    return this.#provider.close();
  }
}
