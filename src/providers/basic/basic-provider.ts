import { inject, injectable } from 'inversify';
import type { AwsServices } from '../../aws/aws-services.js';
import type { ConfigSource, DbSwitchConfig } from '../../config/config.js';
import { AWS_SERVICES, CONFIG, CONFIG_SOURCES, LOGGER } from '../../container/tokens.js';
import type { Logger } from '../../logging/create-logger.js';
import { DirectProvider } from '../direct-provider.js';
import { sslOptionsFor } from '../tls-policy.js';

/**
 * `DB_TYPE=basic`: user and password over TCP (or a unix socket with `DB_SOCKET`), with the
 * TLS policy of `DB_TLS`. For a laptop or CI that can reach the database directly.
 */
@injectable()
export class BasicProvider extends DirectProvider {
  constructor(
    @inject(CONFIG) config: DbSwitchConfig,
    @inject(LOGGER) logger: Logger,
    @inject(AWS_SERVICES) aws: AwsServices,
    @inject(CONFIG_SOURCES) sources: ReadonlyMap<string, ConfigSource>,
  ) {
    super(config, logger, aws, sources, sslOptionsFor(config.db.tls, config.db.tlsCaPath));
  }
}
