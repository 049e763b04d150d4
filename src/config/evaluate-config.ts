import { checkEnvironment } from './check-environment.js';
import { checkLayer, type CheckedLayer } from './check-layer.js';
import type { ConfigSource, DbSwitchConfig } from './config.js';
import { configFiles, readConfigFiles, type Layer } from './config-files.js';
import { readEnvironment } from './environment.js';
import { mergeLayers } from './merge-layers.js';
import type { LoadConfigOptions } from './options.js';
import type { Problem } from './problem.js';
import { resolveSettings } from './resolve-settings.js';
import { checkRules } from './rules.js';
import { settings, type SettingKey } from './schema.js';
import { unknownVariables, type UnknownVariable } from './unknown-variables.js';

/** Everything known about a configuration, valid or not. */
export interface Evaluation {
  /** The configuration from every accepted value (refused ones leave the layer below showing). */
  readonly config: DbSwitchConfig;
  readonly sources: ReadonlyMap<SettingKey, ConfigSource>;
  /** Empty when the configuration is valid. */
  readonly problems: readonly Problem[];
  readonly unknownVariables: readonly UnknownVariable[];
}

/**
 * Reads every layer (schema defaults < `config/dbswitch.json` < `config/dbswitch.<NODE_ENV>.json`
 * < `DB_CONFIG_FILE` < `options.config` < environment, `.env` filling in what the environment
 * lacks), checks each against the schema, merges what was accepted and applies the rules that
 * span settings. Never throws for a configuration problem: it is listed instead.
 */
export function evaluateConfig(options: LoadConfigOptions): Evaluation {
  const cwd = options.cwd ?? process.cwd();
  const problems: Problem[] = [];
  const env = readEnvironment(options.env ?? process.env, cwd, problems);
  const layers: Layer[] = readConfigFiles(configFiles(env.values, cwd, options.files), problems);
  if (options.config !== undefined) layers.push({ source: { kind: 'code' }, values: options.config });
  const checked = layers.map((layer) => checkLayer(layer, problems));
  const environment = checkEnvironment(env, problems);

  const config = resolveSettings(
    mergeLayers(
      checked.map((layer) => layer.values),
      environment.accepted,
    ),
    env.values,
    cwd,
  );
  // A rule sees a refused value's fallback, so its verdict on that key would mislead.
  const refused = new Set(problems.flatMap((problem) => (problem.key === undefined ? [] : [problem.key])));
  problems.push(...checkRules(config).filter((problem) => problem.key === undefined || !refused.has(problem.key)));

  return { config, sources: sourcesOf(checked, environment.sources), problems, unknownVariables: unknownVariables(env.values) };
}

/** Where each setting's value came from: the environment, else the highest layer, else the default. */
function sourcesOf(layers: readonly CheckedLayer[], fromEnvironment: ReadonlyMap<SettingKey, ConfigSource>): Map<SettingKey, ConfigSource> {
  const sources = new Map<SettingKey, ConfigSource>();
  for (const { key } of settings) {
    const layer = layers.findLast((candidate) => candidate.keys.has(key));
    sources.set(key, fromEnvironment.get(key) ?? layer?.source ?? { kind: 'default' });
  }
  return sources;
}
