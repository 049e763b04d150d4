import type { Newable } from 'inversify';
import type { DbType } from '../config/modes.js';
import type { DbProvider } from '../db-provider.js';
import { DbSwitchError } from '../errors.js';
import { BasicProvider } from '../providers/basic/basic-provider.js';
import { SshTunnelProvider } from '../providers/ssh/ssh-provider.js';

/**
 * Which class serves each `db.type`. `aws` lands in the next release; until then
 * choosing them is a configuration error, not a stub that fails later.
 */
export const providerRegistry = {
  basic: BasicProvider,
  ssh: SshTunnelProvider,
} as const satisfies Partial<Record<DbType, Newable<DbProvider>>>;

/** The provider class for `type`, or an ECONFIG error naming what is available. */
export function providerFor(type: DbType): Newable<DbProvider> {
  const registry: Partial<Record<DbType, Newable<DbProvider>>> = providerRegistry;
  const provider = registry[type];
  if (provider === undefined) {
    throw new DbSwitchError(
      'ECONFIG',
      `db.type (env DB_TYPE): "${type}" is not available yet in this version of dbswitch; available: ${Object.keys(providerRegistry).join(', ')}`,
    );
  }
  return provider;
}
