import { inject, injectable } from 'inversify';
import { AWS_SERVICES, type AwsServices } from '../../aws/aws-services.js';
import type { ConfigSource, DbSwitchConfig } from '../../config/config.js';
import { CONFIG, CONFIG_SOURCES } from '../../config/tokens.js';
import { settingLabel } from '../../config/setting-label.js';
import { sslOptionsFor } from '../../connect/tls-policy.js';
import type { SslOptions } from '../../driver/mysql2.js';
import { DbSwitchError } from '../../errors.js';
import { LOGGER, type Logger } from '../../logging/logger.js';
import { BasicProvider } from '../basic/basic-provider.js';
import { rdsCaBundle } from './rds-ca-bundle.js';

/**
 * `DB_TYPE=aws`: RDS IAM authentication from inside AWS. Each new connection gets a token
 * (reused while valid) over TLS verified against the RDS CA set and the endpoint's name; the
 * token is only ever sent on such a connection. The route and the logins are basic's (the login
 * source signs the token as `DB_AUTH=iam` says); only the TLS differs. The tool endpoint's
 * password is a fresh token (valid 15 minutes: enough to log in, not to keep).
 */
@injectable()
export class AwsIamProvider extends BasicProvider {
  constructor(
    @inject(CONFIG) config: DbSwitchConfig,
    @inject(LOGGER) logger: Logger,
    @inject(AWS_SERVICES) aws: AwsServices,
    @inject(CONFIG_SOURCES) sources: ReadonlyMap<string, ConfigSource>,
  ) {
    super(config, logger, aws, sources);
  }

  /** verify-full against the RDS CA set (or DB_TLS_CA), whatever else the configuration says. */
  protected override tlsOptions(config: DbSwitchConfig): SslOptions | undefined {
    // The configuration rules refuse this already; a hand-built config must not get around them.
    if (config.db.tls !== 'verify-full') {
      throw new DbSwitchError('ECONFIG', `${settingLabel('db.tls')}: must be verify-full with DB_TYPE=aws; got ${config.db.tls}`);
    }
    return sslOptionsFor('verify-full', config.db.tlsCaPath, () => rdsCaBundle());
  }
}
