import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDotenv } from './dotenv.js';
import type { Problem } from './problem.js';

/** The variables dbswitch reads: the environment, filled in from `.env`. */
export interface Environment {
  /** Every non-empty variable. */
  readonly values: Readonly<Record<string, string>>;
  /** The names whose value came from `.env`. */
  readonly fromDotenv: ReadonlySet<string>;
  /** Where `.env` is looked for (`<cwd>/.env`), whether or not it exists. */
  readonly dotenvPath: string;
}

/**
 * The given environment with empty values dropped (an empty variable counts as unset), and the
 * variables it lacks taken from `<cwd>/.env` when that file exists: the environment wins.
 * Problems with `.env` name the file and the line, never the line's text.
 */
export function readEnvironment(given: Readonly<Record<string, string | undefined>>, cwd: string, problems: Problem[]): Environment {
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(given)) {
    if (value !== undefined && value !== '') values[name] = value;
  }
  const dotenvPath = join(cwd, '.env');
  const fromDotenv = new Set<string>();
  const text = readDotenv(dotenvPath, problems);
  if (text !== undefined) {
    const parsed = parseDotenv(text);
    for (const error of parsed.errors) problems.push({ message: `${dotenvPath} line ${error.line}: ${error.message}` });
    for (const [name, value] of parsed.values) {
      if (values[name] === undefined && value !== '') {
        values[name] = value;
        fromDotenv.add(name);
      }
    }
  }
  return { values, fromDotenv, dotenvPath };
}

function readDotenv(path: string, problems: Problem[]): string | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    // The code only (EACCES, EISDIR): a read error says nothing about the content anyway.
    problems.push({ message: `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'read error'})` });
    return undefined;
  }
}
