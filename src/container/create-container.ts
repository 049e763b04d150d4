import { Container, ContainerModule } from 'inversify';
import type { ConfigSource, DbSwitchConfig } from '../config/config.js';
import { Db } from '../db.js';
import { DbProvider } from '../db-provider.js';
import { createLogger, type Logger } from '../logging/create-logger.js';
import { providerFor } from './provider-registry.js';
import { sdkAwsServices } from '../aws/aws-services.js';
import { AWS_SERVICES, CONFIG, CONFIG_SOURCES, LOGGER } from './tokens.js';

/**
 * The bindings of dbswitch for one configuration: Config, Logger, AwsServices, DbProvider (the
 * class the registry names for `db.type`) and Db, all singletons of this container.
 */
export function dbSwitchModule(config: DbSwitchConfig, logger: Logger, sources: ReadonlyMap<string, ConfigSource> = new Map()): ContainerModule {
  const provider = providerFor(config.db.type);
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
 * `DbProvider` to a class of yours before the first `get(Db)`.
 *
 * @example
 * const container = createContainer(loadConfig());
 * container.rebind(DbProvider).to(MyProvider).inSingletonScope();
 * const db = container.get(Db);
 */
export function createContainer(
  config: DbSwitchConfig,
  logger: Logger = createLogger(config.log),
  sources: ReadonlyMap<string, ConfigSource> = new Map(),
): Container {
  const container = new Container();
  container.load(dbSwitchModule(config, logger, sources));
  return container;
}
