import { TLSSocket } from 'node:tls';
import { DbSwitchError } from '../errors.js';

type AuthPlugin = (context: { connection: { stream?: unknown } }) => () => Promise<Buffer>;

/**
 * mysql2 `authPlugins` that answer the server's mysql_clear_password request with a fresh IAM
 * token, and only on a connection whose TLS certificate was verified: mysql2 would otherwise
 * send it in the clear if asked.
 */
export function iamAuthPlugins(token: () => Promise<string>, host: string): Record<'mysql_clear_password', AuthPlugin> {
  return {
    mysql_clear_password:
      ({ connection }) =>
      async () => {
        const stream = connection.stream;
        if (!(stream instanceof TLSSocket) || !stream.authorized) {
          throw new DbSwitchError(
            'ETLS',
            `refusing to send an IAM token to ${host}: the connection is not on verified TLS; db.tls (DB_TLS) must be verify-full with DB_AUTH=iam`,
          );
        }
        return Buffer.from(`${await token()}\0`);
      },
  };
}
