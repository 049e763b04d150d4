import { inject, injectable } from 'inversify';
import type { AwsServices } from '../../aws/aws-services.js';
import type { ConfigSource, DbSwitchConfig } from '../../config/config.js';
import { AWS_SERVICES, CONFIG, CONFIG_SOURCES, LOGGER } from '../../container/tokens.js';
import { DbSwitchError } from '../../errors.js';
import type { Logger } from '../../logging/create-logger.js';
import { DirectProvider } from '../direct-provider.js';
import { sslOptionsFor } from '../tls-policy.js';
import { rdsCaBundle } from './rds-ca.js';

/**
 * `DB_TYPE=aws`: RDS IAM authentication from inside AWS. Each new connection gets a token
 * (reused while valid) over TLS verified against the RDS CA set and the endpoint's name; the
 * token is only ever sent on such a connection.
 */
@injectable()
export class AwsIamProvider extends DirectProvider {
  constructor(
    @inject(CONFIG) config: DbSwitchConfig,
    @inject(LOGGER) logger: Logger,
    @inject(AWS_SERVICES) aws: AwsServices,
    @inject(CONFIG_SOURCES) sources: ReadonlyMap<string, ConfigSource>,
  ) {
    // The configuration rules refuse this already; a hand-built config must not get around them.
    if (config.db.tls !== 'verify-full') {
      throw new DbSwitchError('ECONFIG', `db.tls (env DB_TLS): must be verify-full with DB_TYPE=aws; got ${config.db.tls}`);
    }
    super(config, logger, aws, sources, sslOptionsFor('verify-full', config.db.tlsCaPath, () => rdsCaBundle()));
  }
}
