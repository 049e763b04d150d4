import { LOG_LEVELS, type LogLevel } from '../config/modes.js';
import { LEVEL_VALUES, type LevelName, type Logger } from '../logging/logger.js';

/**
 * The CLI's logger: one plain line per entry (`dbswitch warn: message (key=value)`) on stderr,
 * so a terminal never sees JSON amid the command's own output. Level: DB_LOG_LEVEL, default
 * warn (the command's output says the rest).
 */
export function cliLogger(stream: NodeJS.WritableStream, env: Readonly<Record<string, string | undefined>>): Logger {
  const wanted = env['DB_LOG_LEVEL'];
  const level: LogLevel = (LOG_LEVELS as readonly string[]).includes(wanted ?? '') ? (wanted as LogLevel) : 'warn';
  const threshold = LEVEL_VALUES[level];
  const method = (name: LevelName): Logger[LevelName] =>
    LEVEL_VALUES[name] < threshold
      ? () => undefined
      : (first: object | string, message?: string) => {
          stream.write(`${formatLine(name, first, message)}\n`);
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

function formatLine(level: LevelName, first: object | string, message: string | undefined): string {
  if (typeof first === 'string') return `dbswitch ${level}: ${first}`;
  const details = Object.entries(first)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `dbswitch ${level}: ${message ?? ''}${details === '' ? '' : ` (${details})`}`;
}
