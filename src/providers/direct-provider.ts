import type { AwsServices } from '../aws/aws-services.js';
import type { ConfigSource, DbSwitchConfig } from '../config/config.js';
import type { RouteHop } from '../db-provider.js';
import { connectError } from '../driver/connect-error.js';
import { destroyConnection, openConnection, type SslOptions } from '../driver/mysql2.js';
import { DbSwitchError } from '../errors.js';
import type { Logger } from '../logging/create-logger.js';
import type { OpenedConnection } from '../pool/pooled-connection.js';
import { openSocket } from './basic/open-socket.js';
import type { ConnectionSettings } from './connection-settings.js';
import { PooledProvider } from './pooled-provider.js';
import { assertServerIdentity, bindTlsHostName } from './tls-policy.js';

/** A provider that reaches the database itself, over TCP or a unix socket (basic and aws). */
export abstract class DirectProvider extends PooledProvider {
  readonly #ssl: SslOptions | undefined;

  protected constructor(config: DbSwitchConfig, logger: Logger, aws: AwsServices, sources: ReadonlyMap<string, ConfigSource> | undefined, ssl: SslOptions | undefined) {
    super(config, logger, aws, sources);
    this.#ssl = ssl;
  }

  protected async openConnection(settings: ConnectionSettings): Promise<OpenedConnection> {
    const { db } = this.config;
    const socket = openSocket({ host: settings.host, port: settings.port, socketPath: db.socketPath });
    bindTlsHostName(socket, settings.host);
    try {
      const connection = await openConnection({
        stream: socket,
        host: settings.host,
        port: settings.port,
        user: settings.user,
        password: settings.password,
        database: settings.database,
        charset: db.charset,
        ssl: this.#ssl,
        connectTimeoutMs: db.connectTimeoutMs,
        authPlugins: settings.authPlugins,
      });
      try {
        if (db.socketPath === undefined) assertServerIdentity(connection, settings.host, db.tls);
      } catch (err) {
        destroyConnection(connection);
        throw err;
      }
      return { connection, ref: () => socket.ref(), unref: () => socket.unref(), dispose: () => socket.destroy() };
    } catch (err) {
      socket.destroy();
      throw err instanceof DbSwitchError
        ? err
        : connectError(err, {
            address: db.socketPath ?? `${settings.host}:${settings.port}`,
            user: settings.user,
            tls: db.tls,
            addressSettings: db.socketPath === undefined ? 'db.host (DB_HOST) and db.port (DB_PORT)' : 'db.socketPath (DB_SOCKET)',
          });
    }
  }

  route(): readonly RouteHop[] {
    const { db } = this.config;
    const address = db.socketPath ?? `${db.host}:${db.port}`;
    return [{ name: 'database', address, detail: `tls ${db.tls}, auth ${db.auth}${db.secretId === undefined ? '' : `, secret ${db.secretId}`}` }];
  }
}
