import { inject, injectable } from 'inversify';
import type { ConfigSource, DbSwitchConfig } from '../../config/config.js';
import type { AwsServices } from '../../aws/aws-services.js';
import { AWS_SERVICES, CONFIG, CONFIG_SOURCES, LOGGER } from '../../container/tokens.js';
import type { RouteHop } from '../../db-provider.js';
import type { Connection, SslOptions } from '../../driver/mysql2.js';
import type { ClientChannel } from '../../driver/ssh2.js';
import { DbSwitchError } from '../../errors.js';
import type { Logger } from '../../logging/create-logger.js';
import type { OpenedConnection } from '../../pool/pooled-connection.js';
import type { ConnectionSettings } from '../connection-settings.js';
import { PooledProvider } from '../pooled-provider.js';
import { connectOver } from '../connect-over.js';
import { sslOptionsFor } from '../tls-policy.js';
import { instanceConnectCredentials } from './ec2-instance-connect.js';
import { SshTunnel, type TunnelGeneration } from './ssh-tunnel.js';

/**
 * `DB_TYPE=ssh`: through an EC2 bastion. One SSH connection per provider; each pooled database
 * connection rides its own forwarded channel, handed to mysql2 as its stream, so no local port is
 * opened in-process. DB_HOST and DB_PORT are the database as the bastion sees it.
 */
@injectable()
export class SshTunnelProvider extends PooledProvider {
  readonly #tunnel: SshTunnel;
  readonly #ssl: SslOptions | undefined;

  constructor(
    @inject(CONFIG) config: DbSwitchConfig,
    @inject(LOGGER) logger: Logger,
    @inject(AWS_SERVICES) aws: AwsServices,
    @inject(CONFIG_SOURCES) sources: ReadonlyMap<string, ConfigSource>,
  ) {
    super(config, logger, aws, sources);
    const credentials =
      config.ssh.ec2InstanceId === undefined
        ? undefined
        : instanceConnectCredentials(config.ssh, aws.instanceConnect(config.aws.region ?? ''), logger);
    this.#tunnel = new SshTunnel(config.ssh, config.db.connectTimeoutMs, logger, credentials);
    this.#ssl = sslOptionsFor(config.db.tls, config.db.tlsCaPath);
  }

  /** The tunnel, for the CLI's `tunnel` and `exec` and for `check`. */
  get tunnel(): SshTunnel {
    return this.#tunnel;
  }

  protected async openConnection(settings: ConnectionSettings): Promise<OpenedConnection> {
    const tunnel = this.#tunnel;
    // Held from the start: an unref'd tunnel could let the process exit mid-handshake.
    tunnel.hold();
    let opened: { channel: ClientChannel; generation: TunnelGeneration; connection: Connection };
    try {
      // The database as the bastion sees it: the stream is an SSH channel, but TLS and an IAM
      // token are still for that name (never 127.0.0.1 and a local port).
      const { channel, generation } = await tunnel.forward(settings.host, settings.port);
      const connection = await connectOver(channel, settings, this.config.db, this.#ssl, {
        address: `${settings.host}:${settings.port} through the bastion ${tunnel.address}`,
        addressSettings: 'db.host (DB_HOST) and db.port (DB_PORT), as the bastion sees them',
        checkName: true,
      });
      opened = { channel, generation, connection };
    } catch (err) {
      tunnel.letGo();
      throw err;
    }
    const { channel, generation, connection } = opened;
    // Each connection holds the tunnel while it is in use, once.
    let held = true;
    const letGo = (): void => {
      if (!held) return;
      held = false;
      tunnel.letGo();
    };
    return {
      connection,
      ref: () => {
        if (held) return;
        held = true;
        tunnel.hold();
      },
      unref: letGo,
      dispose: () => {
        letGo();
        channel.destroy();
      },
      explainLoss: (err) => (generation.alive ? undefined : droppedError(tunnel.address, generation, err)),
    };
  }

  /** After the linger, the SSH connection goes too; the next session opens a new one. */
  protected override afterLinger(): Promise<void> {
    return this.#tunnel.close();
  }

  override async close(timeoutMs: number): Promise<void> {
    await super.close(timeoutMs);
    await this.#tunnel.close();
  }

  route(): readonly RouteHop[] {
    const report = this.#tunnel.report;
    const ssh = report === undefined ? undefined : `host key ${report.hostKey.fingerprint} verified by ${report.hostKey.verifiedBy}; handshake ${report.handshakeMs} ms; forwarding allowed`;
    return [
      { name: 'ssh bastion', address: this.#tunnel.address, ...(ssh === undefined ? {} : { detail: ssh }) },
      {
        name: 'database (as the bastion sees it)',
        address: `${this.config.db.host}:${this.config.db.port}`,
        detail: `tls ${this.config.db.tls}, auth ${this.config.db.auth}`,
      },
    ];
  }
}

function droppedError(bastion: string, generation: TunnelGeneration, cause: unknown): DbSwitchError {
  return new DbSwitchError(
    'ETUNNEL',
    `the SSH connection to the bastion ${bastion} dropped while a statement was running (${generation.reason ?? 'connection closed'}); the next session reconnects`,
    { cause },
  );
}
