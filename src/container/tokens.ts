import type { ServiceIdentifier } from 'inversify';
import type { ConfigSource, DbSwitchConfig } from '../config/config.js';
import type { AwsServices } from '../aws/aws-services.js';
import type { Logger } from '../logging/create-logger.js';

/** The frozen configuration. */
export const CONFIG: ServiceIdentifier<DbSwitchConfig> = Symbol.for('dbswitch.Config');
/** Where each configuration value came from (empty when unknown: values equal to a default count as defaults). */
export const CONFIG_SOURCES: ServiceIdentifier<ReadonlyMap<string, ConfigSource>> = Symbol.for('dbswitch.ConfigSources');
/** The pino logger. */
export const LOGGER: ServiceIdentifier<Logger> = Symbol.for('dbswitch.Logger');
/** The AWS APIs (EC2 Instance Connect; later Secrets Manager and the RDS signer). */
export const AWS_SERVICES: ServiceIdentifier<AwsServices> = Symbol.for('dbswitch.AwsServices');
