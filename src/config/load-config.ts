import type { ConfigSource, DbSwitchConfig } from './config.js';
import { evaluateConfig } from './evaluate-config.js';
import type { LoadConfigOptions } from './options.js';
import { configError } from './problem.js';
import type { UnknownVariable } from './unknown-variables.js';

export type { LoadConfigOptions } from './options.js';

/** A loaded configuration, where each of its values came from, and what looked like a typo. */
export interface ExplainedConfig {
  readonly config: DbSwitchConfig;
  /** The source of each setting, by dotted key (`db.port`). */
  readonly sources: ReadonlyMap<string, ConfigSource>;
  /**
   * `DB_*` / `SSH_*` variables (environment or `.env`) that dbswitch does not read, each with
   * the variable it most likely meant; worth a warning, not an error.
   */
  readonly unknownVariables: readonly UnknownVariable[];
}

/**
 * Reads and validates the configuration: schema defaults < `config/dbswitch.json` <
 * `config/dbswitch.<NODE_ENV>.json` < `DB_CONFIG_FILE` < `options.config` < environment, where a
 * `.env` file in `cwd` fills in variables the environment lacks. The result is frozen.
 *
 * @throws DbSwitchError `ECONFIG` listing every problem, each with its key and env var.
 * @example
 * const config = loadConfig({ env: { DB_TYPE: 'basic', DB_USER: 'app' } });
 */
export function loadConfig(options: LoadConfigOptions = {}): DbSwitchConfig {
  return explainConfig(options).config;
}

/**
 * Like {@link loadConfig}, and also tells the source of each value (for `dbswitch config`) and
 * the unknown variables (for a warning at start-up).
 *
 * @throws DbSwitchError `ECONFIG` listing every problem, each with its key and env var.
 */
export function explainConfig(options: LoadConfigOptions = {}): ExplainedConfig {
  const { config, sources, problems, unknownVariables } = evaluateConfig(options);
  if (problems.length > 0) throw configError(problems);
  return { config: deepFreeze(config), sources, unknownVariables };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
