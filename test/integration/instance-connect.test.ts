import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdkAwsServices } from '../../src/aws/aws-services.js';
import { AWS_SERVICES } from '../../src/index.js';
import { startInstanceConnectStandIn, type InstanceConnectStandIn } from '../../sandbox/instance-connect-stand-in.js';
import { runCli } from '../support/cli.js';
import { sshEnv, useBastion } from '../support/bastion.js';
import { eventually, openDb, useDatabase } from '../support/test-db.js';

const database = useDatabase('ec2ic');
const bastion = useBastion();
const INSTANCE = 'i-0123456789abcdef0';
const VALIDITY_MS = 1500;
// Fake credentials: the stand-in does not check signatures, and nothing leaves loopback.
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-real-secret' };

let standIn: InstanceConnectStandIn;
beforeAll(async () => {
  standIn = await startInstanceConnectStandIn(bastion.current, { instanceId: INSTANCE, validityMs: VALIDITY_MS });
});
afterAll(async () => {
  await standIn.close();
});

function env(overrides: Record<string, string> = {}): Record<string, string> {
  return sshEnv(bastion.current, bastion.dir, database, { SSH_PRIVATE_KEY_PATH: '', SSH_EC2_INSTANCE_ID: INSTANCE, AWS_REGION: 'eu-west-1', ...overrides });
}

async function openWithStandIn(overrides: Record<string, string> = {}): ReturnType<typeof openDb> {
  return openDb(database, env(overrides), {
    configure: (container) => container.rebind(AWS_SERVICES).toConstantValue(sdkAwsServices({ endpoints: { ec2InstanceConnect: standIn.url }, credentials })),
  });
}

/** The keys sshd's AuthorizedKeysCommand serves right now. */
function servedKeys(): string {
  return execFileSync('/bin/sh', [join(bastion.current.dir, 'ephemeral-keys.sh')]).toString();
}

describe('EC2 Instance Connect', () => {
  it('pushes a fresh in-memory key before connecting, and logs in with it', async () => {
    const before = standIn.pushed.length;
    const db = await openWithStandIn();
    await db.withSession((s) => s.query('SELECT 1'));
    expect(standIn.pushed.length).toBe(before + 1);
    expect(standIn.pushed.at(-1)).toMatchObject({ instanceId: INSTANCE, osUser: bastion.current.user });
    expect(standIn.pushed.at(-1)?.publicKey).toMatch(/^ssh-ed25519 /);
  });

  it('pushes a new key for a reconnect after the first one expired', async () => {
    const db = await openWithStandIn({ DB_LINGER_MS: '100' });
    await db.withSession((s) => s.query('SELECT 1'));
    const first = standIn.pushed.at(-1);
    expect(await eventually(async () => (await bastion.current.openConnections()) === 0, 3000)).toBe(true);
    // wait out the first key: sshd no longer accepts it
    expect(await eventually(() => Promise.resolve(!servedKeys().includes(first?.publicKey ?? '?')), VALIDITY_MS + 2000)).toBe(true);
    await db.withSession((s) => s.query('SELECT 1'));
    const second = standIn.pushed.at(-1);
    expect(second?.publicKey).not.toBe(first?.publicKey);
    expect(servedKeys()).toContain(second?.publicKey);
  });

  it('says which instance EC2 Instance Connect did not know', async () => {
    const db = await openWithStandIn({ SSH_EC2_INSTANCE_ID: 'i-00000000000000000' });
    const err = (await db.withSession((s) => s.query('SELECT 1')).catch((e: unknown) => e)) as Error & { code?: string };
    expect(err.code).toBe('ETUNNEL');
    expect(err.message).toContain('i-00000000000000000');
    expect(err.message).toContain('SSH_EC2_INSTANCE_ID');
    expect(err.message).toContain('not found');
  });

  it('works from the CLI, with the SDK pointed at the stand-in by AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT', async () => {
    const run = await runCli(['check'], {
      ...env(),
      AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT: standIn.url,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    });
    // The SDK itself may warn that its 2027 releases need Node 22; dbswitch adds nothing.
    expect(run.stderr).not.toContain('dbswitch:');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('ssh bastion');
    expect(run.stdout).toContain(bastion.current.hostFingerprint);
  });
});
