import type { ServiceId } from '../container.js';
import type { ConfigSource, DbSwitchConfig } from './config.js';

/** The container's token for the frozen configuration. */
export const CONFIG: ServiceId<DbSwitchConfig> = Symbol.for('dbswitch.Config');
/** Where each configuration value came from (empty when unknown: values equal to a default count as defaults). */
export const CONFIG_SOURCES: ServiceId<ReadonlyMap<string, ConfigSource>> = Symbol.for('dbswitch.ConfigSources');
