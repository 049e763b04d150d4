import type { Newable } from 'inversify';
import type { DbType } from '../config/modes.js';
import type { DbProvider } from '../db-provider.js';
import { AwsIamProvider } from '../providers/aws/aws-provider.js';
import { BasicProvider } from '../providers/basic/basic-provider.js';
import { SshTunnelProvider } from '../providers/ssh/ssh-provider.js';

/** Which class serves each `db.type`: checked complete by the compiler, chosen without an if-chain. */
export const providerRegistry = {
  basic: BasicProvider,
  aws: AwsIamProvider,
  ssh: SshTunnelProvider,
} as const satisfies Record<DbType, Newable<DbProvider>>;

/** The provider class for `type`. */
export function providerFor(type: DbType): Newable<DbProvider> {
  return providerRegistry[type];
}
