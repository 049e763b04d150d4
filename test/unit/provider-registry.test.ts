import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { DB_TYPES } from '../../src/config/modes.js';
import { createContainer } from '../../src/db/create-container.js';
import { providerRegistry } from '../../src/db/provider-registry.js';
import { DbProvider } from '../../src/db-provider.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { AwsIamProvider } from '../../src/providers/aws/aws-provider.js';
import { BasicProvider } from '../../src/providers/basic/basic-provider.js';
import { SshTunnelProvider } from '../../src/providers/ssh/ssh-provider.js';

/** The least configuration each type accepts (nothing connects: the container only builds). */
const ENV: Record<(typeof DB_TYPES)[number], Record<string, string>> = {
  basic: { DB_TYPE: 'basic', DB_USER: 'app' },
  aws: { DB_TYPE: 'aws', DB_USER: 'app', AWS_REGION: 'eu-west-1' },
  ssh: { DB_TYPE: 'ssh', DB_USER: 'app', SSH_HOST: 'bastion.example', SSH_USER: 'ec2-user', SSH_AUTH_SOCK: '/tmp/agent.sock' },
};

const EXPECTED = { basic: BasicProvider, aws: AwsIamProvider, ssh: SshTunnelProvider } as const;

describe('the provider registry', () => {
  it('names a distinct class for each DB_TYPE', async () => {
    expect(Object.keys(providerRegistry).sort()).toEqual([...DB_TYPES].sort());
    const classes = await Promise.all(DB_TYPES.map((type) => providerRegistry[type]()));
    expect(new Set(classes).size).toBe(DB_TYPES.length);
  });

  it.each(DB_TYPES)('binds DbProvider to the %s provider', async (type) => {
    const config = loadConfig({ env: ENV[type], cwd: '/nonexistent-dbswitch-dir' });
    const container = await createContainer(config, createLogger({ level: 'silent', queries: false }));
    const provider = container.get(DbProvider);
    // Exactly that class (the aws provider is basic's route with its own TLS: a subclass).
    expect(provider.constructor).toBe(EXPECTED[type]);
  });
});
