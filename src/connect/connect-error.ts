import { settingLabel } from '../config/setting-label.js';
import { DbSwitchError } from '../errors.js';

/** What a failed connect was aimed at, to name the settings that choose it. */
export interface ConnectTarget {
  /** `host:port` or the socket path, as the user would recognise it. */
  readonly address: string;
  readonly user: string;
  readonly tls: string;
  readonly auth: 'password' | 'iam';
  /** The settings that decide where the connection goes, e.g. "db.host (DB_HOST) and db.port (DB_PORT)". */
  readonly addressSettings: string;
}

const TLS_CODES = new Set([
  'HANDSHAKE_NO_SSL_SUPPORT',
  'HANDSHAKE_SSL_ERROR',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);
const AUTH_CODES = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR']);

/**
 * Turns what mysql2 or the socket reported into a DbSwitchError that says which setting to look
 * at. mysql2's messages carry no password, and neither do these.
 */
export function connectError(err: unknown, target: ConnectTarget): DbSwitchError {
  const code = (err as { code?: unknown }).code;
  const reason = err instanceof Error ? err.message : String(err);
  if (typeof code === 'string' && (TLS_CODES.has(code) || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS'))) {
    return new DbSwitchError(
      'ETLS',
      `TLS with ${target.address} failed under ${settingLabel('db.tls')} = ${target.tls}: ${reason}. ` +
        `Check that ${settingLabel('db.host')} is the name on the server certificate and that ${settingLabel('db.tlsCaPath')} holds the CA that signed it.`,
      { cause: err },
    );
  }
  if (typeof code === 'string' && AUTH_CODES.has(code)) {
    const fix =
      code === 'ER_DBACCESS_DENIED_ERROR'
        ? settingLabel('db.database')
        : target.auth === 'iam'
          ? `${settingLabel('db.user')}, that the user is identified by the IAM plugin on the server, and the rds-db:connect permission of the AWS credentials`
          : `${settingLabel('db.user')} and ${settingLabel('db.password')}`;
    return new DbSwitchError('EAUTH', `the server at ${target.address} refused user '${target.user}': ${reason}. Check ${fix}.`, { cause: err });
  }
  if (code === 'ER_BAD_DB_ERROR') {
    return new DbSwitchError('ECONNECT', `${reason} on ${target.address}; check ${settingLabel('db.database')}.`, { cause: err });
  }
  if (/^Unknown charset/i.test(reason) || code === 'ER_UNKNOWN_CHARACTER_SET' || code === 'ER_UNKNOWN_COLLATION') {
    return new DbSwitchError('ECONFIG', `${settingLabel('db.charset')}: ${reason}; use a MySQL character set such as utf8mb4.`, { cause: err });
  }
  if (code === 'ETIMEDOUT') {
    return new DbSwitchError(
      'ECONNECT',
      `no answer from ${target.address} within ${settingLabel('db.connectTimeoutMs')}; check ${target.addressSettings} and that the network lets you through.`,
      { cause: err },
    );
  }
  return new DbSwitchError('ECONNECT', `cannot connect to ${target.address}: ${reason}. Check ${target.addressSettings}.`, { cause: err });
}
