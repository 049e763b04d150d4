import type { AwsServices } from '../aws/aws-services.js';
import type { ConfigSource, DbSwitchConfig } from '../config/config.js';
import type { RouteHop } from '../db-provider.js';
import type { SslOptions } from '../driver/mysql2.js';
import type { Logger } from '../logging/create-logger.js';
import type { OpenedConnection } from '../pool/pooled-connection.js';
import { openSocket } from './open-socket.js';
import type { ConnectionSettings } from './connection-settings.js';
import { PooledProvider } from './pooled-provider.js';
import { connectOver } from './connect-over.js';

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
    const connection = await connectOver(socket, settings, db, this.#ssl, {
      address: db.socketPath ?? `${settings.host}:${settings.port}`,
      addressSettings: db.socketPath === undefined ? 'db.host (DB_HOST) and db.port (DB_PORT)' : 'db.socketPath (DB_SOCKET)',
      checkName: db.socketPath === undefined,
    });
    return { connection, ref: () => socket.ref(), unref: () => socket.unref(), dispose: () => socket.destroy() };
  }

  route(): readonly RouteHop[] {
    const { db } = this.config;
    const address = db.socketPath ?? `${db.host}:${db.port}`;
    return [{ name: 'database', address, detail: `tls ${db.tls}, auth ${db.auth}${db.secretId === undefined ? '' : `, secret ${db.secretId}`}` }];
  }
}
