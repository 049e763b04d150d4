import { explainConfig } from '../config/load-config.js';
import type { DbSwitchConfig } from '../config/config.js';
import { createContainer } from '../container/create-container.js';
import { DbProvider } from '../db-provider.js';
import { PooledProvider } from '../providers/pooled-provider.js';
import { SshTunnelProvider } from '../providers/ssh/ssh-provider.js';
import type { CliIo } from './cli-io.js';

/** The configured provider, for commands that need more than sessions (the tunnel). */
export function openProvider(io: CliIo): {
  config: DbSwitchConfig;
  provider: DbProvider;
  pooled: PooledProvider | undefined;
  ssh: SshTunnelProvider | undefined;
} {
  const { config, sources } = explainConfig({ env: io.env, cwd: io.cwd });
  const provider = createContainer(config, undefined, sources).get(DbProvider);
  return {
    config,
    provider,
    pooled: provider instanceof PooledProvider ? provider : undefined,
    ssh: provider instanceof SshTunnelProvider ? provider : undefined,
  };
}
