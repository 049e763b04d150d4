import { inject, injectable } from 'inversify';
import { AWS_SERVICES, type AwsServices } from '../../aws/aws-services.js';
import type { ConfigSource, DbSwitchConfig } from '../../config/config.js';
import { CONFIG, CONFIG_SOURCES } from '../../config/tokens.js';
import { settingLabel } from '../../config/setting-label.js';
import { DirectRoute } from '../../connect/direct-route.js';
import { sslOptionsFor } from '../../connect/tls-policy.js';
import { LoginSource } from '../../credentials/login-source.js';
import { DbProvider, type AuthReport, type ProvidedConnection, type RouteHop, type ToolEndpoint, type Transport } from '../../db-provider.js';
import { DbSwitchError } from '../../errors.js';
import { LOGGER, type Logger } from '../../logging/logger.js';
import { rdsCaBundle } from './rds-ca-bundle.js';

/**
 * `DB_TYPE=aws`: RDS IAM authentication from inside AWS. Each new connection gets a token
 * (reused while valid) over TLS verified against the RDS CA set and the endpoint's name; the
 * token is only ever sent on such a connection.
 */
@injectable()
export class AwsIamProvider extends DbProvider {
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
    // The configuration rules refuse this already; a hand-built config must not get around them.
    if (config.db.tls !== 'verify-full') {
      throw new DbSwitchError('ECONFIG', `${settingLabel('db.tls')}: must be verify-full with DB_TYPE=aws; got ${config.db.tls}`);
    }
    this.#route = new DirectRoute(config.db, sslOptionsFor('verify-full', config.db.tlsCaPath, () => rdsCaBundle()));
    this.#logins = new LoginSource(config, aws, logger, sources);
    this.#auth = config.db.auth;
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

  /** With a fresh token as the password (valid 15 minutes: enough to log in, not to keep). */
  async toolEndpoint(): Promise<ToolEndpoint> {
    return this.#route.endpoint(await this.#logins.toolLogin());
  }

  override auth(): AuthReport {
    return { method: this.#auth, token: this.#logins.token };
  }
}
