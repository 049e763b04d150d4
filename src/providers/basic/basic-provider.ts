import { inject, injectable } from 'inversify';
import { AWS_SERVICES, type AwsServices } from '../../aws/aws-services.js';
import type { ConfigSource, DbSwitchConfig } from '../../config/config.js';
import { CONFIG, CONFIG_SOURCES } from '../../config/tokens.js';
import { DirectRoute } from '../../connect/direct-route.js';
import { sslOptionsFor } from '../../connect/tls-policy.js';
import type { SslOptions } from '../../driver/mysql2.js';
import { LoginSource } from '../../credentials/login-source.js';
import { DbProvider, type AuthReport, type ProvidedConnection, type RouteHop, type ToolEndpoint, type Transport } from '../../db-provider.js';
import { LOGGER, type Logger } from '../../logging/logger.js';

/**
 * `DB_TYPE=basic`: user and password (or a Secrets Manager secret) over TCP, or a unix socket
 * with `DB_SOCKET`, with the TLS policy of `DB_TLS`. For a laptop or CI that can reach the
 * database directly.
 */
@injectable()
export class BasicProvider extends DbProvider {
  readonly #route: DirectRoute;
  readonly #logins: LoginSource;
  readonly #auth: 'password' | 'iam';

  constructor(
    @inject(CONFIG) config: DbSwitchConfig,
    @inject(LOGGER) logger: Logger,
    @inject(AWS_SERVICES) aws: AwsServices,
    @inject(CONFIG_SOURCES) sources: ReadonlyMap<string, ConfigSource>,
  ) {
    super();
    this.#route = new DirectRoute(config.db, this.tlsOptions(config));
    this.#logins = new LoginSource(config, aws, logger, sources);
    this.#auth = config.db.auth;
  }

  /**
   * The TLS of every connection: `DB_TLS` as configured. Called once, by the constructor (so an
   * override must use nothing but `config`).
   */
  protected tlsOptions(config: DbSwitchConfig): SslOptions | undefined {
    return sslOptionsFor(config.db.tls, config.db.tlsCaPath);
  }

  connect(): Promise<ProvidedConnection> {
    return this.#logins.connect((login) => this.#route.open(login));
  }

  override async openTransport(): Promise<Transport> {
    return this.#route.transport(await this.#logins.login());
  }

  route(): readonly RouteHop[] {
    return this.#route.hops();
  }

  async toolEndpoint(): Promise<ToolEndpoint> {
    return this.#route.endpoint(await this.#logins.toolLogin());
  }

  override auth(): AuthReport {
    return { method: this.#auth, token: this.#logins.token };
  }
}
