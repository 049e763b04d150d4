import type { Duplex } from 'node:stream';
import type { DbSwitchConfig } from '../config/config.js';
import { settingLabel } from '../config/setting-label.js';
import type { ProvidedConnection, ToolEndpoint } from '../db-provider.js';
import type { SslOptions } from '../driver/mysql2.js';
import { DbSwitchError } from '../errors.js';
import { openConnection } from './open-connection.js';
import { sslOptionsFor } from './tls-policy.js';

/** Who logs in, for {@link connectOverStream}; each field defaults to the configuration. */
export interface StreamLogin {
  readonly host?: string;
  readonly port?: number;
  readonly user?: string;
  readonly password?: string;
  readonly database?: string;
}

/** One `ssl` object per configuration: mysql2 caches the secure context per options object. */
const sslByConfig = new WeakMap<DbSwitchConfig, SslOptions | undefined>();

/**
 * For your own provider: opens an authenticated connection over a stream you opened (a socket,
 * a channel, a proxy), with dbswitch's TLS policy (`db.tls`, `db.tlsCaPath`, verified for
 * `host`), charset and connect timeout. On failure the stream is destroyed and the error is a
 * DbSwitchError (ECONNECT, EAUTH, ETLS) naming the settings to fix.
 *
 * @example
 * class MyProvider extends DbProvider {
 *   connect() { return connectOverStream(net.connect(3306, 'db.internal'), this.config); }
 * }
 */
export async function connectOverStream(stream: Duplex, config: DbSwitchConfig, login: StreamLogin = {}): Promise<ProvidedConnection> {
  const { db } = config;
  if (!sslByConfig.has(config)) sslByConfig.set(config, sslOptionsFor(db.tls, db.tlsCaPath));
  const user = login.user ?? db.user;
  if (user === undefined) throw new DbSwitchError('ECONFIG', `${settingLabel('db.user')}: not set`);
  const host = login.host ?? db.host;
  const port = login.port ?? db.port;
  const connection = await openConnection(
    stream,
    { host, port, user, password: login.password ?? db.password, database: login.database ?? db.database, authPlugins: undefined },
    db,
    sslByConfig.get(config),
    { address: `${host}:${port}`, addressSettings: 'the provider', checkName: true },
  );
  return { connection, dispose: () => stream.destroy() };
}

/**
 * For your own provider whose database programs outside the process can reach directly: the
 * endpoint `dbswitch exec` and `tunnel` hand them, from the configuration.
 */
export function directEndpoint(config: DbSwitchConfig, login: StreamLogin = {}): ToolEndpoint {
  const { db } = config;
  const host = login.host ?? db.host;
  const port = login.port ?? db.port;
  return {
    host,
    port,
    socketPath: undefined,
    user: login.user ?? db.user ?? '',
    password: login.password ?? db.password,
    database: login.database ?? db.database,
    forwarded: false,
    description: `${host}:${port}`,
    close: () => Promise.resolve(),
  };
}
