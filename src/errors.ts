/**
 * Every failure dbswitch itself reports is a `DbSwitchError` with a stable `code`.
 * SQL errors the server returns (syntax, duplicate key, ...) are passed through untouched as
 * mysql2 errors, so `err.code === 'ER_DUP_ENTRY'` keeps working.
 */
export const ERROR_CODES = {
  /** A setting is missing, unknown or invalid; the message names the key and its env var. */
  ECONFIG: 'ECONFIG',
  /** No connection could be opened (refused, unreachable, timed out). */
  ECONNECT: 'ECONNECT',
  /** The server refused the credentials. */
  EAUTH: 'EAUTH',
  /** TLS could not be negotiated or the server's certificate failed verification. */
  ETLS: 'ETLS',
  /** No pooled connection became free within `pool.acquireTimeoutMs`. */
  EACQUIRE_TIMEOUT: 'EACQUIRE_TIMEOUT',
  /** The connection broke while a statement was running; it has been discarded. */
  ECONNECTION_LOST: 'ECONNECTION_LOST',
  /** A statement ran past its timeout (`timeout`, `db.statementTimeoutMs`); it was killed on the server. */
  ETIMEOUT: 'ETIMEOUT',
  /** A statement was given up on (AbortSignal, aborted request); it was killed on the server. */
  ECANCELLED: 'ECANCELLED',
  /** The session was used after it had been released. */
  ESESSION_RELEASED: 'ESESSION_RELEASED',
  /** The Db was used after `close()`. */
  ECLOSED: 'ECLOSED',
  /** The SSH tunnel to the bastion failed or dropped, or the bastion refused a forward. */
  ETUNNEL: 'ETUNNEL',
  /** The bastion's host key is unknown, changed, revoked or not the pinned one. */
  EHOSTKEY: 'EHOSTKEY',
  /** The API was called in a way it does not support (e.g. isolation options on a nested transaction). */
  EUSAGE: 'EUSAGE',
} as const;

export type DbSwitchErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/**
 * The one error class of dbswitch.
 *
 * @example
 * try { await createDb(); } catch (err) {
 *   if (err instanceof DbSwitchError && err.code === 'ECONFIG') console.error(err.message);
 * }
 */
export class DbSwitchError extends Error {
  override readonly name = 'DbSwitchError';
  readonly code: DbSwitchErrorCode;

  constructor(code: DbSwitchErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `err` is a DbSwitchError, optionally with the given code. */
export function isDbSwitchError(err: unknown, code?: DbSwitchErrorCode): err is DbSwitchError {
  return err instanceof DbSwitchError && (code === undefined || err.code === code);
}
