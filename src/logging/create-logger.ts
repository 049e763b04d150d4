import { createRequire } from 'node:module';
import type { Logger as PinoLogger } from 'pino';
import type { DbSwitchConfig } from '../config/config.js';
import { LEVEL_NAMES, LEVEL_VALUES, type Logger } from './logger.js';

export type { Logger, LogFn } from './logger.js';

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
 * lost when a script exits right after its last query, at `DB_LOG_LEVEL`.
 *
 * pino is loaded by the first line that is actually written, not before: on the happy path
 * dbswitch logs nothing at `info`, so a Lambda or CLI start never pays for loading it.
 *
 * @example
 * const logger = createLogger({ level: 'debug', queries: true });
 */
export function createLogger(options: DbSwitchConfig['log']): Logger {
  const threshold = LEVEL_VALUES[options.level];
  let pino: PinoLogger | undefined;
  const write = (level: (typeof LEVEL_NAMES)[number], args: [object | string, string?]): void => {
    pino ??= loadPino(options.level);
    if (typeof args[0] === 'string') pino[level](args[0]);
    else pino[level](args[0], args[1]);
  };
  const method = (level: (typeof LEVEL_NAMES)[number]): Logger[typeof level] =>
    LEVEL_VALUES[level] < threshold
      ? () => undefined
      : (...args: [object | string, string?]) => {
          write(level, args);
        };
  return {
    fatal: method('fatal'),
    error: method('error'),
    warn: method('warn'),
    info: method('info'),
    debug: method('debug'),
    trace: method('trace'),
  };
}

function loadPino(level: DbSwitchConfig['log']['level']): PinoLogger {
  // Synchronous on purpose (a log call is synchronous); pino is CommonJS.
  const pino = createRequire(import.meta.url)('pino') as typeof import('pino').default;
  return pino({ name: 'dbswitch', level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, pino.destination({ dest: 2, sync: true }));
}
