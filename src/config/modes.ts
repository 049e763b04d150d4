/**
 * Every enumerated setting, declared once: the convict schema validates against these lists and
 * the TypeScript unions are derived from them, so the two can never disagree.
 */

/** How the application reaches its database (`DB_TYPE`). */
export const DB_TYPES = ['basic', 'aws', 'ssh'] as const;
export type DbType = (typeof DB_TYPES)[number];

/** TLS policy (`DB_TLS`), in increasing order of strictness. */
export const TLS_MODES = ['disabled', 'required', 'verify-ca', 'verify-full'] as const;
export type TlsMode = (typeof TLS_MODES)[number];

/** How the database user proves its identity (`DB_AUTH`). */
export const AUTH_METHODS = ['password', 'iam'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** OpenSSH's StrictHostKeyChecking values that dbswitch supports. */
export const HOST_KEY_CHECKING = ['yes', 'accept-new', 'no'] as const;
export type HostKeyChecking = (typeof HOST_KEY_CHECKING)[number];

/** pino's levels, plus `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * When a released connection is reset (`DB_POOL_RESET_ON_RELEASE`): `auto` resets only when the
 * session changed state (variables, temp tables, schema, locks), `always` on every release,
 * `never` not at all.
 */
export const RESET_MODES = ['auto', 'always', 'never'] as const;
export type ResetMode = (typeof RESET_MODES)[number];
