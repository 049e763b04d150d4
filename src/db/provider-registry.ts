import type { Newable } from 'inversify';
import type { DbType } from '../config/modes.js';
import type { DbProvider } from '../db-provider.js';
import { BasicProvider } from '../providers/basic/basic-provider.js';

/**
 * Which class serves each `db.type`: checked complete by the compiler, chosen without an
 * if-chain. ssh and aws are loaded on demand, so an application on basic (the default) never
 * loads their code.
 */
export const providerRegistry = {
  basic: () => Promise.resolve(BasicProvider),
  aws: async () => (await import('../providers/aws/aws-provider.js')).AwsIamProvider,
  ssh: async () => (await import('../providers/ssh/ssh-provider.js')).SshTunnelProvider,
} as const satisfies Record<DbType, () => Promise<Newable<DbProvider>>>;

/** The provider class for `type`. */
export function providerFor(type: DbType): Promise<Newable<DbProvider>> {
  return providerRegistry[type]();
}
