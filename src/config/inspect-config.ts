import type { ConfigSource } from './config.js';
import { evaluateConfig } from './evaluate-config.js';
import type { LoadConfigOptions } from './options.js';
import { describeProblem, describeWithoutLabel } from './problem.js';
import { settings, type SettingKey } from './schema.js';
import type { UnknownVariable } from './unknown-variables.js';

/** What `dbswitch config` shows of a secret that is set. */
export const MASK = '********';

/** One setting as `dbswitch config` shows it. */
export interface ConfigRow {
  readonly key: SettingKey;
  readonly env: string;
  /** The value in effect (secrets as `********`); `undefined` when unset. */
  readonly value: string | number | boolean | undefined;
  readonly source: ConfigSource;
  /**
   * What is wrong with it (without the key, which the row names), when something is; a refused
   * value is not in effect, so `value` and `source` are then those of the layer below.
   */
  readonly problem?: string;
}

/** The whole configuration, valid or not, as {@link inspectConfig} sees it. */
export interface ConfigInspection {
  /** Every setting, in schema order. */
  readonly rows: readonly ConfigRow[];
  /** Every problem, each naming its key and env var (or its file and line); empty when valid. */
  readonly problems: readonly string[];
  /** `DB_*` / `SSH_*` variables dbswitch does not read, with a "did you mean". */
  readonly unknownVariables: readonly UnknownVariable[];
}

/**
 * Reads the configuration like `loadConfig` but never throws for a problem in it: shows the
 * defaults and every value it could resolve, a refused value falling back to the layer below,
 * with the problems beside them. Secrets are masked; no message holds one.
 *
 * @example
 * const { rows, problems, unknownVariables } = inspectConfig({ env: process.env });
 * if (problems.length > 0) console.error(problems.join('\n'));
 */
export function inspectConfig(options: LoadConfigOptions = {}): ConfigInspection {
  const { config, sources, problems, unknownVariables } = evaluateConfig(options);
  const rows = settings.map((setting): ConfigRow => {
    const value = new Map<string, ConfigRow['value']>(Object.entries(config[setting.section])).get(setting.name);
    const rowProblems = problems.filter((problem) => problem.key === setting.key).map(describeWithoutLabel);
    return {
      key: setting.key,
      env: setting.env,
      value: value !== undefined && setting.sensitive === true ? MASK : value,
      source: sources.get(setting.key) ?? { kind: 'default' },
      ...(rowProblems.length === 0 ? {} : { problem: rowProblems.join('; ') }),
    };
  });
  return { rows, problems: problems.map(describeProblem), unknownVariables };
}
