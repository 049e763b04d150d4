import { settingLabel } from '../../config/setting-label.js';
import { assertServerIdentity, bindTlsHostName } from '../../connect/tls-policy.js';
import type { Transport } from '../../db-provider.js';
import { createDriverConnection, fillInLogin, moveToStream, type Connection } from '../../driver/mysql2.js';
import { DbSwitchError } from '../../errors.js';
import { splitStatements } from '../../sql/split-statements.js';
import type { DbHandle } from './db-handle.js';
import type { ConnectionRequest } from './orm-options.js';
import { PendingStream } from './pending-stream.js';

/**
 * A real mysql2 connection (what Sequelize's pool keeps, validates and ends), made at once as
 * mysql2's createConnection is, whose route and login are dbswitch's. It starts on a pending
 * stream; once `handle`'s provider has opened the transport (a TCP socket, or a channel through
 * the bastion) and the login is ready (a secret read, an IAM token's plugin), the login is set on
 * the connection and the connection is moved onto the transport's stream, before the server's
 * greeting can be read. From then on mysql2 talks to the socket or channel directly: TLS is
 * negotiated by mysql2 with the provider's `ssl` (DB_TLS), the certificate checked against the
 * configured host during the handshake, before any credential is sent, also when DB_HOST is an
 * IP address; an IAM token is only ever sent on a verified TLS connection.
 *
 * The connect timeout (DB_CONNECT_TIMEOUT_MS) covers the transport, TLS and the login. DB_INIT_SQL
 * runs first on every connection, before the ORM's own statements. The transport is freed, and
 * the handle released, when the connection's stream closes.
 */
export function bridgedConnection(handle: DbHandle, request: ConnectionRequest): Connection {
  const { db, pool } = handle.config;
  const initSql = initStatements(db.initSql);
  const pending = new PendingStream();
  const connection = createDriverConnection({
    ...request.driverOptions,
    stream: pending,
    // Until the login is known (it may come from Secrets Manager), the configured route.
    host: db.host,
    port: db.port,
    charset: request.charset ?? db.charset,
    // dbswitch's own timer (below) covers opening the transport as well as the handshake.
    connectTimeout: 0,
  });
  handle.retain();
  let transport: Transport | undefined;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    transport?.dispose();
    void handle.release(pool.lingerMs);
  };
  const timer = setTimeout(() => {
    const err = new DbSwitchError(
      'ECONNECT',
      `could not connect to ${db.host}:${db.port} within ${settingLabel('db.connectTimeoutMs')} = ${db.connectTimeoutMs} ms (transport, TLS and login)`,
    );
    if (transport === undefined) {
      pending.fail(err);
      finish();
    } else {
      transport.stream.destroy(err);
    }
  }, db.connectTimeoutMs);

  // Registered before the ORM's own listener: a certificate that does not name the host fails
  // the connection before the ORM uses it (a second line behind the check in the handshake).
  connection.once('connect', () => {
    clearTimeout(timer);
    if (transport !== undefined && db.socketPath === undefined) {
      try {
        assertServerIdentity(connection, transport.host, db.tls);
      } catch (err) {
        transport.stream.destroy(err as Error);
        return;
      }
    }
    // Queued ahead of whatever the ORM sends once it hears 'connect'.
    for (const [index, sql] of initSql.entries()) {
      connection.query(sql, (err: Error | null) => {
        if (err === null || transport === undefined) return;
        const failed = new DbSwitchError('ECONFIG', `${settingLabel('db.initSql')}: statement ${index + 1} of ${initSql.length} failed on the server: ${err.message}`, {
          cause: err,
        });
        const stream = transport.stream;
        // Once mysql2 has moved on to the ORM's statement, which then fails with this error.
        process.nextTick(() => stream.destroy(failed));
      });
    }
  });

  handle.openTransport().then(
    (opened) => {
      // Given up meanwhile (the timer, or the ORM destroyed the connection).
      if (pending.destroyed || finished) {
        opened.dispose();
        finish();
        return;
      }
      transport = opened;
      const { stream } = opened;
      stream.once('close', finish);
      // The server's end closes the connection. An SSH channel is half-open otherwise: mysql2
      // would see no close, and write its next statement to a server that is gone.
      stream.once('end', () => {
        stream.end();
      });
      fillInLogin(connection, {
        host: opened.host,
        port: opened.port,
        user: opened.user,
        password: opened.password,
        database: request.database ?? opened.database,
        authPlugins: opened.authPlugins,
        ssl: opened.ssl,
      });
      // mysql2 names no server for an IP address: Node must check the certificate against it.
      bindTlsHostName(stream, opened.host);
      moveToStream(connection, pending, stream);
      pending.handOver(stream);
    },
    (err: unknown) => {
      pending.fail(err instanceof Error ? err : new DbSwitchError('ECONNECT', String(err)));
      finish();
    },
  );
  return connection;
}

/** DB_INIT_SQL as statements; a text that cannot be split is a configuration error naming it. */
function initStatements(text: string | undefined): string[] {
  if (text === undefined) return [];
  try {
    return splitStatements(text);
  } catch (err) {
    throw new DbSwitchError('ECONFIG', `${settingLabel('db.initSql')}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
