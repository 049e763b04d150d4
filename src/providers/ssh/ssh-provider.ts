import { inject, injectable } from 'inversify';
import { AWS_SERVICES, type AwsServices } from '../../aws/aws-services.js';
import type { ConfigSource, DbSwitchConfig } from '../../config/config.js';
import { CONFIG, CONFIG_SOURCES } from '../../config/tokens.js';
import { sslOptionsFor } from '../../connect/tls-policy.js';
import { LoginSource } from '../../credentials/login-source.js';
import { DbProvider, type AuthReport, type ProvidedConnection, type RouteHop, type ToolEndpoint, type ToolEndpointOptions, type Transport } from '../../db-provider.js';
import { LOGGER, type Logger } from '../../logging/logger.js';
import { instanceConnectCredentials } from './ec2-instance-connect.js';
import { SshTunnel } from './ssh-tunnel.js';
import { TunnelRoute } from './tunnel-route.js';

/**
 * `DB_TYPE=ssh`: through an EC2 bastion. One SSH connection per provider; each database
 * connection rides its own forwarded channel. DB_HOST and DB_PORT are the database as the bastion
 * sees it; the login is a password, a Secrets Manager secret, or an IAM token (DB_AUTH=iam).
 */
@injectable()
export class SshTunnelProvider extends DbProvider {
  readonly #tunnel: SshTunnel;
  readonly #route: TunnelRoute;
  readonly #logins: LoginSource;
  readonly #auth: 'password' | 'iam';

  constructor(
    @inject(CONFIG) config: DbSwitchConfig,
    @inject(LOGGER) logger: Logger,
    @inject(AWS_SERVICES) aws: AwsServices,
    @inject(CONFIG_SOURCES) sources: ReadonlyMap<string, ConfigSource>,
  ) {
    super();
    const credentials =
      config.ssh.ec2InstanceId === undefined ? undefined : instanceConnectCredentials(config.ssh, aws.instanceConnect(config.aws.region ?? ''), logger);
    this.#tunnel = new SshTunnel(config.ssh, config.db.connectTimeoutMs, logger, credentials);
    this.#route = new TunnelRoute(this.#tunnel, config.db, sslOptionsFor(config.db.tls, config.db.tlsCaPath));
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

  async toolEndpoint(options: ToolEndpointOptions): Promise<ToolEndpoint> {
    return this.#route.endpoint(await this.#logins.toolLogin(), options);
  }

  override auth(): AuthReport {
    return { method: this.#auth, token: this.#logins.token };
  }

  /** Ends the SSH connection; the next connect() opens a new one. */
  override close(): Promise<void> {
    return this.#tunnel.close();
  }
}
