import { pino, type Logger } from 'pino';
import type { DbSwitchConfig } from '../config/config.js';

export type { Logger } from 'pino';

/**
 * Paths pino censors even if some code passes a whole options object to the logger; dbswitch
 * itself never logs a secret, this is the second line of defence.
 */
const REDACTED_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'token',
  '*.token',
  'privateKey',
  '*.privateKey',
  'passphrase',
  '*.passphrase',
  'values',
  '*.values',
];

/**
 * The default logger: pino to stderr (stdout stays free for CLI output), synchronous so nothing is
 * lost when a script exits right after its last query.
 *
 * @example
 * const logger = createLogger({ level: 'debug', queries: true });
 */
export function createLogger(options: DbSwitchConfig['log']): Logger {
  return pino(
    { name: 'dbswitch', level: options.level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
    pino.destination({ dest: 2, sync: true }),
  );
}
