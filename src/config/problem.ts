import { DbSwitchError } from '../errors.js';
import type { SettingKey } from './schema.js';
import { settingLabel } from './setting-label.js';

/**
 * One thing wrong with the configuration. Messages never hold a secret: values of sensitive
 * settings, file contents and `.env` lines are never copied into them.
 */
export interface Problem {
  /** The setting it is about, if any (a file or `.env` problem is about none). */
  readonly key?: SettingKey;
  /** What is wrong and what is allowed, without the setting's name (added by `describeProblem`). */
  readonly message: string;
  /** Where the offending value was set: a file, an env var, `.env`, or createDb({ config }). */
  readonly origin?: string;
  /** The offending value, as JSON and shortened; never for sensitive settings. */
  readonly shown?: string;
}

/** The longest value a message repeats; a long value is more likely pasted by mistake. */
const SHOWN_MAX = 60;

/** A non-secret value as a message shows it: JSON, cut short. */
export function showValue(value: unknown): string {
  const json = JSON.stringify(value) as string | undefined;
  const shown = json ?? String(value);
  return shown.length > SHOWN_MAX ? `${shown.slice(0, SHOWN_MAX)}...` : shown;
}

/** One line: `db.port (DB_PORT): must be a whole number from 1 to 65535; got "x" from env DB_PORT`. */
export function describeProblem(problem: Problem): string {
  const text = describeWithoutLabel(problem);
  return problem.key === undefined ? text : `${settingLabel(problem.key)}: ${text}`;
}

/** The same without the setting's name, for where the setting is already named (a table row). */
export function describeWithoutLabel(problem: Problem): string {
  const where =
    problem.origin === undefined ? '' : problem.shown === undefined ? `; set in ${problem.origin} (value not shown)` : `; got ${problem.shown} from ${problem.origin}`;
  return `${problem.message}${where}`;
}

/** The one ECONFIG error that lists every problem. */
export function configError(problems: readonly Problem[]): DbSwitchError {
  const lines = problems.map((problem) => `  - ${describeProblem(problem)}`);
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return new DbSwitchError('ECONFIG', `invalid dbswitch configuration (${count}):\n${lines.join('\n')}`);
}
