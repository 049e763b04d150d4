import type { ServiceId } from '../container.js';

/**
 * What dbswitch asks of a logger: pino's six level methods, with a merge object and a message.
 * A pino logger (yours or the default one) is such a logger; so is any logger with these methods.
 */
export interface LogFn {
  (fields: object, message?: string): void;
  (message: string): void;
}

export interface Logger {
  readonly fatal: LogFn;
  readonly error: LogFn;
  readonly warn: LogFn;
  readonly info: LogFn;
  readonly debug: LogFn;
  readonly trace: LogFn;
}

/** pino's numeric levels, for deciding whether a line is wanted before loading anything. */
export const LEVEL_VALUES = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Number.POSITIVE_INFINITY } as const;
export type LevelName = Exclude<keyof typeof LEVEL_VALUES, 'silent'>;
export const LEVEL_NAMES: readonly LevelName[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

/** The container's token for the logger. */
export const LOGGER: ServiceId<Logger> = Symbol.for('dbswitch.Logger');
