import type { DbSwitchConfig } from '../../config/config.js';
import { settingLabel } from '../../config/setting-label.js';
import { openConnection } from '../../connect/open-connection.js';
import type { ProvidedConnection, RouteHop, ToolEndpoint, ToolEndpointOptions, Transport } from '../../db-provider.js';
import { loginFields, type Login, type ToolLogin } from '../../credentials/login-source.js';
import type { SslOptions } from '../../driver/mysql2.js';
import { DbSwitchError } from '../../errors.js';
import { LocalForwarder } from './local-forwarder.js';
import type { SshLink } from './ssh-link.js';
import type { SshTunnel } from './ssh-tunnel.js';

/**
 * The database reached through the bastion: each connection rides its own forwarded channel,
 * handed to mysql2 as its stream (no local port in-process). TLS and an IAM token are still for
 * the database's own name as the bastion sees it, never 127.0.0.1.
 */
export class TunnelRoute {
  readonly #tunnel: SshTunnel;
  readonly #db: DbSwitchConfig['db'];
  readonly #ssl: SslOptions | undefined;

  constructor(tunnel: SshTunnel, db: DbSwitchConfig['db'], ssl: SslOptions | undefined) {
    this.#tunnel = tunnel;
    this.#db = db;
    this.#ssl = ssl;
  }

  async open(login: Login): Promise<ProvidedConnection> {
    const tunnel = this.#tunnel;
    // Held from the start: an unref'd tunnel could let the process exit mid-handshake.
    tunnel.hold();
    let held = true;
    const letGo = (): void => {
      if (!held) return;
      held = false;
      tunnel.letGo();
    };
    try {
      const { channel, link } = await tunnel.forward(login.host, login.port);
      const connection = await openConnection(channel, login, this.#db, this.#ssl, {
        address: `${login.host}:${login.port} through the bastion ${tunnel.address}`,
        addressSettings: `${settingLabel('db.host')} and ${settingLabel('db.port')}, as the bastion sees them`,
        checkName: true,
      });
      return {
        connection,
        hold: () => {
          if (held) return;
          held = true;
          tunnel.hold();
        },
        letGo,
        dispose: () => {
          letGo();
          channel.destroy();
        },
        explainLoss: (err) => (link.alive ? undefined : droppedError(link, err)),
      };
    } catch (err) {
      letGo();
      throw err;
    }
  }

  /** A channel to the database and the login, for a driver that runs its own handshake. */
  async transport(login: Login): Promise<Transport> {
    const tunnel = this.#tunnel;
    tunnel.hold();
    try {
      const { channel } = await tunnel.forward(login.host, login.port);
      let held = true;
      return {
        ...loginFields(login),
        stream: channel,
        ssl: this.#ssl,
        dispose: () => {
          if (held) tunnel.letGo();
          held = false;
          channel.destroy();
        },
      };
    } catch (err) {
      tunnel.letGo();
      throw err;
    }
  }

  hops(): RouteHop[] {
    const report = this.#tunnel.report;
    const ssh =
      report === undefined ? undefined : `host key ${report.hostKey.fingerprint} verified by ${report.hostKey.verifiedBy}; handshake ${report.handshakeMs} ms; forwarding allowed`;
    return [
      { name: 'ssh bastion', address: this.#tunnel.address, ...(ssh === undefined ? {} : { detail: ssh }) },
      { name: 'database (as the bastion sees it)', address: `${this.#db.host}:${this.#db.port}`, detail: `tls ${this.#db.tls}, auth ${this.#db.auth}` },
    ];
  }

  /** A port on 127.0.0.1 forwarded through the bastion to the database, until close(). */
  async endpoint(login: ToolLogin, options: ToolEndpointOptions): Promise<ToolEndpoint> {
    await this.#tunnel.open();
    const forwarder = new LocalForwarder(this.#tunnel, { host: login.host, port: login.port }, options.onClient);
    const port = await forwarder.listen(options.localPort);
    const hostKey = this.#tunnel.report?.hostKey;
    return {
      ...login,
      host: '127.0.0.1',
      port,
      socketPath: undefined,
      forwarded: true,
      description:
        `${login.host}:${login.port} via ${this.#tunnel.address}` + (hostKey === undefined ? '' : ` (host key ${hostKey.fingerprint}, ${hostKey.verifiedBy})`),
      close: () => forwarder.close(),
    };
  }
}

function droppedError(link: SshLink, cause: unknown): DbSwitchError {
  return new DbSwitchError(
    'ETUNNEL',
    `the SSH connection to the bastion ${link.address} dropped (${link.downReason ?? 'connection closed'}); the statement failed, and the next connection reconnects`,
    { cause },
  );
}
