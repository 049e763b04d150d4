import type { ServiceIdentifier } from 'inversify';
import type { DbSwitchConfig } from '../config/config.js';
import type { AwsServices } from '../aws/aws-services.js';
import type { Logger } from '../logging/create-logger.js';

/** The frozen configuration. */
export const CONFIG: ServiceIdentifier<DbSwitchConfig> = Symbol.for('dbswitch.Config');
/** The pino logger. */
export const LOGGER: ServiceIdentifier<Logger> = Symbol.for('dbswitch.Logger');
/** The AWS APIs (EC2 Instance Connect; later Secrets Manager and the RDS signer). */
export const AWS_SERVICES: ServiceIdentifier<AwsServices> = Symbol.for('dbswitch.AwsServices');
