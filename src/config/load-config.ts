import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import convict from 'convict';
import { DbSwitchError } from '../errors.js';
import type { ConfigSource, DbSwitchConfig, DbSwitchConfigInput } from './config.js';
import { coerce } from './formats.js';
import { checkRules, type Problem } from './rules.js';
import { schema, settingFor, settings, type SettingSchema } from './schema.js';
import { closestKey } from './closest-key.js';

/** Where `loadConfig` looks. Every field is optional; nothing is read before the call. */
export interface LoadConfigOptions {
  /** Environment variables. Default: `process.env`. Empty values count as unset. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Folder holding `config/` and `.env`. Default: `process.cwd()`. */
  readonly cwd?: string;
  /**
   * Config files to merge, in order, instead of `config/default.json`,
   * `config/<NODE_ENV>.json` and `DB_CONFIG_FILE`. Each must exist.
   */
  readonly files?: readonly string[];
  /** Settings from code, above the files and below the environment. */
  readonly config?: DbSwitchConfigInput;
}

/** A loaded configuration and where each of its values came from. */
export interface ExplainedConfig {
  readonly config: DbSwitchConfig;
  readonly sources: ReadonlyMap<string, ConfigSource>;
}

type ConfigShape = Record<string, Record<string, unknown>>;

interface Layer {
  readonly source: ConfigSource;
  readonly values: Record<string, unknown>;
}

/**
 * Reads and validates the configuration: schema defaults < `config/default.json` <
 * `config/<NODE_ENV>.json` < `DB_CONFIG_FILE` < `options.config` < environment, where a `.env`
 * file in `cwd` fills in variables the environment lacks. The result is frozen.
 *
 * @throws DbSwitchError `ECONFIG` listing every problem, each with its key and env var.
 * @example
 * const config = loadConfig({ env: { DB_TYPE: 'basic', DB_USER: 'app' } });
 */
export function loadConfig(options: LoadConfigOptions = {}): DbSwitchConfig {
  return explainConfig(options).config;
}

/** Like {@link loadConfig}, and also tells the source of each value (for `dbswitch config`). */
export function explainConfig(options: LoadConfigOptions = {}): ExplainedConfig {
  const cwd = options.cwd ?? process.cwd();
  const problems: Problem[] = [];
  const { env, fromDotenv, dotenvPath } = readEnvironment(options.env ?? process.env, cwd, problems);
  const layers = readLayers(options, env, cwd, problems);

  // Each layer is checked and normalised before convict sees it: convict coerces strings by the
  // type of the default (`parseFloat('3306x')` is 3306; any Boolean but "false" is true), so the
  // strict checks must run first. The environment is the top layer.
  const envLayer: Layer = { source: { kind: 'env', name: '' }, values: environmentLayer(env) };
  const store = convict(convictSchema(), { env: {}, args: [] });
  for (const layer of [...layers, envLayer]) store.load(checkLayer(layer, fromDotenv, dotenvPath, problems));
  try {
    store.validate({ allowed: 'strict' });
  } catch (err) {
    problems.push(...convictProblems(err, layers));
  }
  if (problems.length > 0) throw configError(problems);

  const config = resolveSettings(store.getProperties(), env, cwd);
  problems.push(...checkRules(config));
  if (problems.length > 0) throw configError(problems);

  const sources = new Map<string, ConfigSource>();
  for (const { key, env: name } of settings) {
    sources.set(key, sourceOf(key, name, env, fromDotenv, dotenvPath, layers));
  }
  return { config: deepFreeze(config), sources };
}

/**
 * Runs each setting's check on the values one layer sets and returns the layer with accepted
 * strings turned into numbers and booleans. Problems name the file or env var the value came from.
 */
function checkLayer(layer: Layer, fromDotenv: ReadonlySet<string>, dotenvPath: string, problems: Problem[]): Record<string, unknown> {
  const rejected = new Set<string>();
  const accepted = new Map<string, unknown>();
  for (const setting of settings) {
    const section = layer.values[setting.section];
    if (typeof section !== 'object' || section === null || !Object.hasOwn(section, setting.name)) continue;
    const value = (section as Record<string, unknown>)[setting.name];
    try {
      setting.format(value);
      accepted.set(setting.key, coerce(value, setting.format));
    } catch (err) {
      rejected.add(setting.key);
      problems.push({
        key: setting.key,
        message: (err as Error).message,
        origin: originOf(layer, setting.env, fromDotenv, dotenvPath),
        // A secret's value is never repeated, not even a malformed one.
        ...(setting.sensitive === true ? {} : { shown: JSON.stringify(value) }),
      });
    }
  }
  // Unknown keys stay in, for convict's strict check to report; rejected values are left out.
  const checked: Record<string, unknown> = {};
  for (const [sectionName, section] of Object.entries(layer.values)) {
    if (typeof section !== 'object' || section === null || Array.isArray(section)) {
      checked[sectionName] = section;
      continue;
    }
    checked[sectionName] = Object.fromEntries(
      Object.entries(section)
        .filter(([name]) => !rejected.has(`${sectionName}.${name}`))
        .map(([name, value]) => [name, accepted.has(`${sectionName}.${name}`) ? accepted.get(`${sectionName}.${name}`) : value]),
    );
  }
  return checked;
}

function originOf(layer: Layer, envName: string, fromDotenv: ReadonlySet<string>, dotenvPath: string): string {
  switch (layer.source.kind) {
    case 'env':
    case 'dotenv':
      return fromDotenv.has(envName) ? `${envName} in ${dotenvPath}` : `env ${envName}`;
    case 'file':
      return layer.source.path;
    case 'code':
    case 'default':
      return 'createDb({ config })';
  }
}

/** The schema as convict takes it: everything but the env names. */
function convictSchema(): convict.Schema<ConfigShape> {
  const sections: Record<string, Record<string, Omit<SettingSchema, 'env'>>> = {};
  for (const { section, name, doc, default: value, format, sensitive } of settings) {
    (sections[section] ??= {})[name] = { doc, default: value, format, ...(sensitive === undefined ? {} : { sensitive }) };
  }
  return sections;
}

/** The settings the environment sets, as a config-file-shaped object of strings. */
function environmentLayer(env: Record<string, string>): Record<string, Record<string, string>> {
  const layer: Record<string, Record<string, string>> = {};
  for (const setting of settings) {
    const value = env[setting.env];
    if (value !== undefined) (layer[setting.section] ??= {})[setting.name] = value;
  }
  return layer;
}

function readEnvironment(
  given: Readonly<Record<string, string | undefined>>,
  cwd: string,
  problems: Problem[],
): { env: Record<string, string>; fromDotenv: Set<string>; dotenvPath: string } {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(given)) {
    if (value !== undefined && value !== '') env[name] = value;
  }
  const dotenvPath = join(cwd, '.env');
  const fromDotenv = new Set<string>();
  if (existsSync(dotenvPath)) {
    try {
      for (const [name, value] of Object.entries(parseEnv(readFileSync(dotenvPath, 'utf8')))) {
        if (env[name] === undefined && value !== undefined && value !== '') {
          env[name] = value;
          fromDotenv.add(name);
        }
      }
    } catch (err) {
      problems.push({ message: `cannot read ${dotenvPath}: ${(err as Error).message}` });
    }
  }
  return { env, fromDotenv, dotenvPath };
}

function readLayers(options: LoadConfigOptions, env: Record<string, string>, cwd: string, problems: Problem[]): Layer[] {
  const wanted: { path: string; required: boolean }[] = [];
  if (options.files !== undefined) {
    for (const file of options.files) wanted.push({ path: resolve(cwd, file), required: true });
  } else {
    wanted.push({ path: join(cwd, 'config', 'default.json'), required: false });
    const nodeEnv = env['NODE_ENV'];
    if (nodeEnv !== undefined) wanted.push({ path: join(cwd, 'config', `${nodeEnv}.json`), required: false });
    const named = env['DB_CONFIG_FILE'];
    if (named !== undefined) wanted.push({ path: resolve(cwd, named), required: true });
  }

  const layers: Layer[] = [];
  for (const { path, required } of wanted) {
    if (!existsSync(path)) {
      if (required) problems.push({ message: `config file ${path} does not exist (named by DB_CONFIG_FILE or the files option)` });
      continue;
    }
    try {
      const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        problems.push({ message: `config file ${path} must hold a JSON object like {"db": {"host": "..."}}` });
        continue;
      }
      layers.push({ source: { kind: 'file', path }, values: parsed as Record<string, unknown> });
    } catch (err) {
      problems.push({ message: `config file ${path} is not valid JSON: ${(err as Error).message}` });
    }
  }
  if (options.config !== undefined) layers.push({ source: { kind: 'code' }, values: options.config });
  return layers;
}

const INVALID_LINE = /^([\w.]+): (.*?)(?:: value was (.*))?$/;
const UNDECLARED_LINE = /^configuration param '(.+)' not declared in the schema$/;

/** Turns convict's newline-joined validation message back into one problem per key. */
function convictProblems(err: unknown, layers: readonly Layer[]): Problem[] {
  const problems: Problem[] = [];
  for (const line of (err instanceof Error ? err.message : String(err)).split('\n')) {
    const undeclared = UNDECLARED_LINE.exec(line);
    if (undeclared?.[1] !== undefined) {
      problems.push({ message: unknownKeyMessage(undeclared[1], layers) });
      continue;
    }
    const invalid = INVALID_LINE.exec(line);
    if (invalid?.[1] !== undefined && invalid[2] !== undefined && settingFor(invalid[1]) !== undefined) {
      problems.push({ key: invalid[1], message: invalid[2] });
      continue;
    }
    problems.push({ message: line });
  }
  return problems;
}

function unknownKeyMessage(key: string, layers: readonly Layer[]): string {
  const where = layers.find((layer) => hasPath(layer.values, key))?.source;
  const origin = where?.kind === 'file' ? ` in ${where.path}` : where?.kind === 'code' ? ' in createDb({ config })' : '';
  const suggestion = closestKey(key, settings.map((s) => s.key));
  const section = key.split('.')[0] ?? '';
  const siblings = settings.filter((s) => s.section === section).map((s) => s.name);
  const allowed =
    siblings.length > 0 ? `keys of "${section}": ${siblings.join(', ')}` : `sections: ${Object.keys(schema).join(', ')}`;
  return `unknown key "${key}"${origin}${suggestion === undefined ? '' : `; did you mean "${suggestion}"?`} (${allowed})`;
}

function configError(problems: readonly Problem[]): DbSwitchError {
  const lines = problems.map((problem) => `  - ${describeProblem(problem)}`);
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return new DbSwitchError('ECONFIG', `invalid dbswitch configuration (${count}):\n${lines.join('\n')}`);
}

function describeProblem(problem: Problem): string {
  if (problem.key === undefined) return problem.message;
  const setting = settingFor(problem.key);
  const name = setting === undefined ? problem.key : `${setting.key} (env ${setting.env})`;
  const got =
    problem.origin === undefined ? '' : problem.shown === undefined ? `; set in ${problem.origin} (value not shown)` : `; got ${problem.shown} from ${problem.origin}`;
  return `${name}: ${problem.message}${got}`;
}

/** Coerces strings, turns null into undefined, resolves paths and per-provider defaults. */
function resolveSettings(raw: Record<string, Record<string, unknown>>, env: Record<string, string>, cwd: string): DbSwitchConfig {
  const out: Record<string, Record<string, unknown>> = {};
  for (const setting of settings) {
    const value = raw[setting.section]?.[setting.name];
    (out[setting.section] ??= {})[setting.name] = value === null ? undefined : coerce(value, setting.format);
  }
  const db = out['db'] ?? {};
  const ssh = out['ssh'] ?? {};
  const home = env['HOME'] ?? homedir();
  const path = (value: unknown): string | undefined => {
    if (typeof value !== 'string') return undefined;
    const expanded = value === '~' || value.startsWith('~/') ? join(home, value.slice(1)) : value;
    return isAbsolute(expanded) ? expanded : resolve(cwd, expanded);
  };
  db['tls'] ??= db['type'] === 'aws' ? 'verify-full' : 'disabled';
  db['auth'] ??= db['type'] === 'aws' ? 'iam' : 'password';
  db['tlsCaPath'] = path(db['tlsCaPath']);
  db['socketPath'] = path(db['socketPath']);
  ssh['knownHostsPath'] = path(ssh['knownHostsPath'] ?? '~/.ssh/known_hosts');
  ssh['privateKeyPath'] = path(ssh['privateKeyPath']);
  return out as unknown as DbSwitchConfig;
}

function sourceOf(
  key: string,
  envName: string,
  env: Record<string, string>,
  fromDotenv: ReadonlySet<string>,
  dotenvPath: string,
  layers: readonly Layer[],
): ConfigSource {
  if (env[envName] !== undefined) {
    return fromDotenv.has(envName) ? { kind: 'dotenv', name: envName, path: dotenvPath } : { kind: 'env', name: envName };
  }
  const layer = [...layers].reverse().find((l) => hasPath(l.values, key));
  return layer?.source ?? { kind: 'default' };
}

function hasPath(values: Record<string, unknown>, key: string): boolean {
  let node: unknown = values;
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, part)) return false;
    node = (node as Record<string, unknown>)[part];
  }
  return true;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
