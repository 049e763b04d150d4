import { inject, injectable } from 'inversify';
import type { DbSwitchConfig } from '../../config/config.js';
import type { RouteHop } from '../../db-provider.js';
import { connectError, type ConnectTarget } from '../../driver/connect-error.js';
import { destroyConnection, openConnection, type SslOptions } from '../../driver/mysql2.js';
import { DbSwitchError } from '../../errors.js';
import { CONFIG, LOGGER } from '../../container/tokens.js';
import type { Logger } from '../../logging/create-logger.js';
import type { OpenedConnection } from '../../pool/pooled-connection.js';
import { PooledProvider } from '../pooled-provider.js';
import { assertServerIdentity, bindTlsHostName, sslOptionsFor } from '../tls-policy.js';
import { openSocket } from './open-socket.js';

/**
 * `DB_TYPE=basic`: user and password over TCP (or a unix socket with `DB_SOCKET`), with the
 * TLS policy of `DB_TLS`. For a laptop or CI that can reach the database directly.
 */
@injectable()
export class BasicProvider extends PooledProvider {
  readonly #ssl: SslOptions | undefined;
  readonly #target: ConnectTarget;

  constructor(@inject(CONFIG) config: DbSwitchConfig, @inject(LOGGER) logger: Logger) {
    super(config, logger);
    const { db } = config;
    if (db.secretId !== undefined) {
      throw new DbSwitchError('ECONFIG', 'db.secretId (env DB_SECRET_ID): Secrets Manager is not available yet in this version of dbswitch; set DB_USER and DB_PASSWORD');
    }
    this.#ssl = sslOptionsFor(db.tls, db.tlsCaPath);
    this.#target = {
      address: db.socketPath ?? `${db.host}:${db.port}`,
      user: db.user ?? '',
      tls: db.tls,
      addressSettings: db.socketPath === undefined ? 'db.host (DB_HOST) and db.port (DB_PORT)' : 'db.socketPath (DB_SOCKET)',
    };
  }

  protected async openConnection(): Promise<OpenedConnection> {
    const { db } = this.config;
    const socket = openSocket(db);
    bindTlsHostName(socket, db.host);
    try {
      const connection = await openConnection({
        stream: socket,
        host: db.host,
        port: db.port,
        user: db.user ?? '',
        password: db.password,
        database: db.database,
        charset: db.charset,
        ssl: this.#ssl,
        connectTimeoutMs: db.connectTimeoutMs,
      });
      try {
        if (db.socketPath === undefined) assertServerIdentity(connection, db.host, db.tls);
      } catch (err) {
        destroyConnection(connection);
        throw err;
      }
      return { connection, ref: () => socket.ref(), unref: () => socket.unref(), dispose: () => socket.destroy() };
    } catch (err) {
      socket.destroy();
      throw err instanceof DbSwitchError ? err : connectError(err, this.#target);
    }
  }

  route(): readonly RouteHop[] {
    return [{ name: 'database', address: this.#target.address, detail: `tls ${this.config.db.tls}` }];
  }
}
