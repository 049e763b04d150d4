import type { Duplex } from 'node:stream';
import type { DbSwitchConfig } from '../config/config.js';
import type { Login } from '../credentials/login-source.js';
import { destroyConnection, openConnection as openMysql, type Connection, type SslOptions } from '../driver/mysql2.js';
import { DbSwitchError } from '../errors.js';
import { connectError } from './connect-error.js';
import { assertServerIdentity, bindTlsHostName } from './tls-policy.js';

/** How a failed connect names its target, for the error message. */
export interface TargetDescription {
  /** `host:port`, a socket path, or "host:port through the bastion ...". */
  readonly address: string;
  /** The settings that decide where the connection goes. */
  readonly addressSettings: string;
  /** Whether TLS checks the certificate against login.host (false over a unix socket). */
  readonly checkName: boolean;
}

/**
 * Opens an authenticated mysql2 connection over `stream` (a socket or an SSH channel) as
 * `login`, with TLS verified for `login.host` as `db.tls` asks. On failure the stream is
 * destroyed and the error is a DbSwitchError naming the settings to fix.
 */
export async function openConnection(
  stream: Duplex,
  login: Login,
  db: Pick<DbSwitchConfig['db'], 'charset' | 'connectTimeoutMs' | 'tls' | 'auth'>,
  ssl: SslOptions | undefined,
  target: TargetDescription,
): Promise<Connection> {
  bindTlsHostName(stream, login.host);
  try {
    const connection = await openMysql({
      stream,
      host: login.host,
      port: login.port,
      user: login.user,
      password: login.password,
      database: login.database,
      charset: db.charset,
      ssl,
      connectTimeoutMs: db.connectTimeoutMs,
      authPlugins: login.authPlugins,
    });
    try {
      if (target.checkName) assertServerIdentity(connection, login.host, db.tls);
    } catch (err) {
      destroyConnection(connection);
      throw err;
    }
    return connection;
  } catch (err) {
    stream.destroy();
    throw err instanceof DbSwitchError
      ? err
      : connectError(err, { address: target.address, user: login.user, tls: db.tls, auth: db.auth, addressSettings: target.addressSettings });
  }
}
