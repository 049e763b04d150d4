import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ConfigSource } from './config.js';
import { jsonErrorPosition } from './json-syntax.js';
import type { Problem } from './problem.js';

/** The variable that names one more config file (not a setting: it says where settings are). */
export const CONFIG_FILE_VARIABLE = 'DB_CONFIG_FILE';

/** Settings from one place, not yet checked: a config file or `createDb({ config })`. */
export interface Layer {
  readonly source: Extract<ConfigSource, { kind: 'file' } | { kind: 'code' }>;
  readonly values: unknown;
}

interface WantedFile {
  readonly path: string;
  /** Why it is read, for the message when it must exist and does not. */
  readonly namedBy?: string;
}

/**
 * dbswitch's own config files, lowest first: `config/dbswitch.json` and
 * `config/dbswitch.<NODE_ENV>.json` in `cwd` when present, then the file named by
 * `DB_CONFIG_FILE`, which must exist. Other files in `config/` (node-config's `default.json`,
 * `<NODE_ENV>.json`) belong to the application and are never read. `files` replaces the list.
 */
export function configFiles(env: Readonly<Record<string, string>>, cwd: string, files: readonly string[] | undefined): WantedFile[] {
  if (files !== undefined) return files.map((file) => ({ path: resolve(cwd, file), namedBy: 'the files option' }));
  const wanted: WantedFile[] = [{ path: join(cwd, 'config', 'dbswitch.json') }];
  const nodeEnv = env['NODE_ENV'];
  if (nodeEnv !== undefined) wanted.push({ path: join(cwd, 'config', `dbswitch.${nodeEnv}.json`) });
  const named = env[CONFIG_FILE_VARIABLE];
  if (named !== undefined) wanted.push({ path: resolve(cwd, named), namedBy: CONFIG_FILE_VARIABLE });
  return wanted;
}

/** Reads each wanted file that exists (or must) as a layer; problems never quote the content. */
export function readConfigFiles(wanted: readonly WantedFile[], problems: Problem[]): Layer[] {
  const layers: Layer[] = [];
  for (const { path, namedBy } of wanted) {
    if (!existsSync(path)) {
      if (namedBy !== undefined) problems.push({ message: `config file ${path} (named by ${namedBy}) does not exist` });
      continue;
    }
    const text = readText(path, problems);
    if (text === undefined) continue;
    const values = parseJson(path, text, problems);
    if (values !== undefined) layers.push({ source: { kind: 'file', path }, values });
  }
  return layers;
}

function readText(path: string, problems: Problem[]): string | undefined {
  try {
    // Editors on Windows may start the file with a byte order mark, which JSON.parse refuses.
    return readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  } catch (err) {
    problems.push({ message: `cannot read config file ${path} (${(err as NodeJS.ErrnoException).code ?? 'read error'})` });
    return undefined;
  }
}

function parseJson(path: string, text: string, problems: Problem[]): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    // Never err.message: it quotes the text around the error, which may be a password.
    const position = jsonErrorPosition(text);
    const where = position === undefined ? '' : ` at line ${position.line}, column ${position.column}`;
    problems.push({ message: `config file ${path} is not valid JSON: syntax error${where} (the content is not shown: it may hold a secret)` });
    return undefined;
  }
}
