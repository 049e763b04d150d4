import type { Duplex } from 'node:stream';
import type { DbSwitchConfig } from '../config/config.js';
import { connectError } from '../driver/connect-error.js';
import { destroyConnection, openConnection, type Connection, type SslOptions } from '../driver/mysql2.js';
import { DbSwitchError } from '../errors.js';
import type { ConnectionSettings } from './connection-settings.js';
import { assertServerIdentity, bindTlsHostName } from './tls-policy.js';

/** How a failed connect names its target, for the error message. */
export interface TargetDescription {
  /** `host:port`, a socket path, or "host:port through the bastion ...". */
  readonly address: string;
  /** The settings that decide where the connection goes. */
  readonly addressSettings: string;
  /** Whether TLS names settings.host (false over a unix socket). */
  readonly checkName: boolean;
}

/**
 * Opens an authenticated mysql2 connection over `stream` (a socket or an SSH channel) with the
 * settings of the moment, TLS verified for `settings.host`. On failure the stream is destroyed and
 * the error is a DbSwitchError naming the settings to fix.
 */
export async function connectOver(
  stream: Duplex,
  settings: ConnectionSettings,
  db: DbSwitchConfig['db'],
  ssl: SslOptions | undefined,
  target: TargetDescription,
): Promise<Connection> {
  bindTlsHostName(stream, settings.host);
  try {
    const connection = await openConnection({
      stream,
      host: settings.host,
      port: settings.port,
      user: settings.user,
      password: settings.password,
      database: settings.database,
      charset: db.charset,
      ssl,
      connectTimeoutMs: db.connectTimeoutMs,
      authPlugins: settings.authPlugins,
    });
    try {
      if (target.checkName) assertServerIdentity(connection, settings.host, db.tls);
    } catch (err) {
      destroyConnection(connection);
      throw err;
    }
    return connection;
  } catch (err) {
    stream.destroy();
    throw err instanceof DbSwitchError
      ? err
      : connectError(err, { address: target.address, user: settings.user, tls: db.tls, addressSettings: target.addressSettings });
  }
}
