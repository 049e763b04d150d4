import type { DbSwitchConfig } from '../config/config.js';
import { settingLabel } from '../config/setting-label.js';
import type { ProvidedConnection, RouteHop, ToolEndpoint, Transport } from '../db-provider.js';
import { loginFields, type Login, type ToolLogin } from '../credentials/login-source.js';
import type { SslOptions } from '../driver/mysql2.js';
import { openConnection } from './open-connection.js';
import { openSocket } from './open-socket.js';

/**
 * The database reached directly, over TCP or a unix socket (basic and aws): the transport and
 * TLS half of a provider; the login is the other half.
 */
export class DirectRoute {
  readonly #db: DbSwitchConfig['db'];
  readonly #ssl: SslOptions | undefined;

  /** `ssl`: made once per provider, so mysql2 reuses one secure context (and the parsed CA bundle). */
  constructor(db: DbSwitchConfig['db'], ssl: SslOptions | undefined) {
    this.#db = db;
    this.#ssl = ssl;
  }

  /** Opens one connection as `login`. */
  async open(login: Login): Promise<ProvidedConnection> {
    const db = this.#db;
    const socket = openSocket({ host: login.host, port: login.port, socketPath: db.socketPath });
    const connection = await openConnection(socket, login, db, this.#ssl, {
      address: db.socketPath ?? `${login.host}:${login.port}`,
      addressSettings: db.socketPath === undefined ? `${settingLabel('db.host')} and ${settingLabel('db.port')}` : settingLabel('db.socketPath'),
      checkName: db.socketPath === undefined,
    });
    // The raw socket, not the TLS one mysql2 made over it, is what holds the event loop.
    return { connection, hold: () => socket.ref(), letGo: () => socket.unref(), dispose: () => socket.destroy() };
  }

  /** A socket to the database and the login, for a driver that runs its own handshake. */
  transport(login: Login): Transport {
    const socket = openSocket({ host: login.host, port: login.port, socketPath: this.#db.socketPath });
    return { ...loginFields(login), stream: socket, ssl: this.#ssl, dispose: () => socket.destroy() };
  }

  hops(): RouteHop[] {
    const db = this.#db;
    const address = db.socketPath ?? `${db.host}:${db.port}`;
    return [{ name: 'database', address, detail: `tls ${db.tls}, auth ${db.auth}${db.secretId === undefined ? '' : `, secret ${db.secretId}`}` }];
  }

  /** A program outside this process reaches the database as this one does: nothing to forward. */
  endpoint(login: ToolLogin): ToolEndpoint {
    const socketPath = this.#db.socketPath;
    return {
      ...login,
      socketPath,
      forwarded: false,
      description: socketPath ?? `${login.host}:${login.port}`,
      close: () => Promise.resolve(),
    };
  }
}
