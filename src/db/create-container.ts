import { Container as InversifyContainer, ContainerModule, type Newable } from 'inversify';
import type { Container } from '../container.js';
import { AWS_SERVICES, sdkAwsServices } from '../aws/aws-services.js';
import type { ConfigSource, DbSwitchConfig } from '../config/config.js';
import { CONFIG, CONFIG_SOURCES } from '../config/tokens.js';
import { Db } from './db.js';
import { DbProvider } from '../db-provider.js';
import { LOGGER, type Logger } from '../logging/logger.js';
import { providerFor } from './provider-registry.js';

/**
 * The bindings of dbswitch for one configuration: Config, Logger, AwsServices, DbProvider (the
 * class the registry names for `db.type`) and Db, all singletons of this container. Built at
 * bootstrap by createDb(), never at import time.
 */
function dbSwitchModule(
  config: DbSwitchConfig,
  logger: Logger,
  provider: Newable<DbProvider>,
  sources: ReadonlyMap<string, ConfigSource> = new Map(),
): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(CONFIG).toConstantValue(config);
    bind(CONFIG_SOURCES).toConstantValue(sources);
    bind(LOGGER).toConstantValue(logger);
    bind(AWS_SERVICES).toConstantValue(sdkAwsServices());
    bind(DbProvider).to(provider).inSingletonScope();
    bind(Db).toSelf().inSingletonScope();
  });
}

/**
 * A container with dbswitch's bindings, for applications that compose their own: rebind
 * `DbProvider` (or `AWS_SERVICES`) before the first `get(Db)`.
 *
 * @example
 * const config = loadConfig();
 * const container = await createContainer(config, createLogger(config.log));
 * container.rebind(DbProvider).toConstantValue(new MyProvider());
 * const db = container.get(Db);
 */
export async function createContainer(config: DbSwitchConfig, logger: Logger, sources: ReadonlyMap<string, ConfigSource> = new Map()): Promise<Container> {
  const container = new InversifyContainer();
  container.load(dbSwitchModule(config, logger, await providerFor(config.db.type), sources));
  return container;
}
