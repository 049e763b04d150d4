import { checkValue } from './check-layer.js';
import type { ConfigSource } from './config.js';
import type { Environment } from './environment.js';
import type { Problem } from './problem.js';
import { settings, type SettingKey } from './schema.js';

/** The settings the environment sets acceptably, and where each came from. */
export interface CheckedEnvironment {
  /** Env name to value, only the dbswitch variables whose value was accepted. */
  readonly accepted: Readonly<Record<string, string>>;
  readonly sources: ReadonlyMap<SettingKey, ConfigSource>;
}

/**
 * Checks each setting's env var (from the environment or `.env`). A refused value is a problem
 * naming the variable and, for `.env`, the file; it is left out so the layers below show through.
 */
export function checkEnvironment(env: Environment, problems: Problem[]): CheckedEnvironment {
  const accepted: Record<string, string> = {};
  const sources = new Map<SettingKey, ConfigSource>();
  for (const setting of settings) {
    const value = env.values[setting.env];
    if (value === undefined) continue;
    const fromDotenv = env.fromDotenv.has(setting.env);
    const origin = fromDotenv ? `${setting.env} in ${env.dotenvPath}` : `env ${setting.env}`;
    if (!checkValue(setting, value, origin, problems)) continue;
    accepted[setting.env] = value;
    sources.set(setting.key, fromDotenv ? { kind: 'dotenv', name: setting.env, path: env.dotenvPath } : { kind: 'env', name: setting.env });
  }
  return { accepted, sources };
}
