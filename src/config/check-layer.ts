import { closestKey } from './closest-key.js';
import type { Layer } from './config-files.js';
import { accept } from './formats.js';
import { showValue, type Problem } from './problem.js';
import { envName, sections, settingFor, settings, type SettingEntry, type SettingKey } from './schema.js';

/** Settings as convict loads them: `{ section: { name: value } }`. */
export type ConfigShape = Record<string, Record<string, unknown>>;

/** The accepted values of one layer, in their original form (convict coerces them). */
export interface CheckedLayer {
  readonly source: Layer['source'];
  readonly values: ConfigShape;
  readonly keys: ReadonlySet<SettingKey>;
}

/**
 * Walks one layer against the schema: an unknown section or key is a problem with a "did you
 * mean", a value its setting's format refuses is a problem naming where it was set, and
 * everything else is kept. Refused values are left out, so the layers below still show through
 * (`dbswitch config` shows what it can).
 */
export function checkLayer(layer: Layer, problems: Problem[]): CheckedLayer {
  const origin = layer.source.kind === 'file' ? layer.source.path : 'createDb({ config })';
  const values: ConfigShape = {};
  const keys = new Set<SettingKey>();
  if (!isPlainObject(layer.values)) {
    problems.push({ message: `${origin} must hold an object of sections like {"db": {"host": "..."}} (sections: ${sections.join(', ')})` });
    return { source: layer.source, values, keys };
  }
  for (const [sectionName, section] of Object.entries(layer.values)) {
    if (!sections.some((name) => name === sectionName)) {
      for (const key of leafKeys(sectionName, section)) problems.push({ message: unknownKeyMessage(key, origin) });
      continue;
    }
    if (!isPlainObject(section)) {
      problems.push({ message: `"${sectionName}" in ${origin} must be an object of settings (${keysOf(sectionName)})` });
      continue;
    }
    for (const [name, value] of Object.entries(section)) {
      // `{ user: process.env.X }` from JavaScript: undefined sets nothing (null unsets).
      if (value === undefined) continue;
      const setting = settingFor(`${sectionName}.${name}`);
      if (setting === undefined) {
        problems.push({ message: unknownKeyMessage(`${sectionName}.${name}`, origin) });
        continue;
      }
      if (checkValue(setting, value, origin, problems)) {
        (values[sectionName] ??= {})[name] = value;
        keys.add(setting.key);
      }
    }
  }
  return { source: layer.source, values, keys };
}

/** Whether `value` is acceptable for `setting`; if not, records a problem that names `origin`. */
export function checkValue(setting: SettingEntry, value: unknown, origin: string, problems: Problem[]): boolean {
  try {
    accept(setting.format, value);
    return true;
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    // A secret's value is never repeated, not even a malformed one.
    problems.push({ key: setting.key, message: err.message, origin, ...(setting.sensitive === true ? {} : { shown: showValue(value) }) });
    return false;
  }
}

function unknownKeyMessage(key: string, origin: string): string {
  const suggestion = suggestKey(key);
  // As the key is written in a file, with its env var: `did you mean "db.host" (DB_HOST)?`
  const hint = suggestion === undefined ? '' : `; did you mean "${suggestion}" (${envName(suggestion)})?`;
  const section = key.split('.')[0] ?? '';
  const allowed = sections.some((name) => name === section) ? keysOf(section) : `sections: ${sections.join(', ')}`;
  // The key only, never its value: an unknown key may be a misspelt "password".
  return `unknown key "${key}" in ${origin}${hint} (${allowed})`;
}

/** A likely meant key: a near spelling, or the key of an env name used as a key (`DB_HOST`). */
function suggestKey(key: string): SettingKey | undefined {
  const byEnv = settings.find((setting) => setting.env === key || setting.env === key.split('.').at(-1));
  return byEnv?.key ?? closestKey(key, settings.map((setting) => setting.key));
}

function keysOf(section: string): string {
  const names = settings.filter((s) => s.section === section).map((s) => s.name);
  return `keys of "${section}": ${names.join(', ')}`;
}

/** The dotted keys under an unknown section: `database.host`, or the section itself. */
function leafKeys(prefix: string, value: unknown): string[] {
  if (!isPlainObject(value) || Object.keys(value).length === 0) return [prefix];
  return Object.entries(value).flatMap(([name, child]) => leafKeys(`${prefix}.${name}`, child));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
