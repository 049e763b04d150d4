import { randomUUID } from 'node:crypto';
import { awsError, serveAwsJson } from './aws-json-server.js';
import type { SshSandbox } from './ssh-sandbox.js';

/** What the stand-in was asked. */
export interface PushedKey {
  readonly instanceId: string;
  readonly osUser: string;
  readonly publicKey: string;
  readonly at: number;
}

/** A local EC2 Instance Connect endpoint that authorizes pushed keys in a sandbox sshd. */
export interface InstanceConnectStandIn {
  /** `http://127.0.0.1:port`, for the SDK's `endpoint` option or AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT. */
  readonly url: string;
  readonly pushed: readonly PushedKey[];
  close(): Promise<void>;
}

/**
 * Serves SendSSHPublicKey, as the real SDK calls it, on 127.0.0.1: a key pushed for `instanceId`
 * and the bastion's user becomes valid in `bastion` for `validityMs` (60 s, as AWS does, unless a
 * test shortens it). Other instances get EC2InstanceNotFoundException.
 */
export async function startInstanceConnectStandIn(
  bastion: SshSandbox,
  options: { instanceId: string; validityMs?: number },
): Promise<InstanceConnectStandIn> {
  const pushed: PushedKey[] = [];
  const validityMs = options.validityMs ?? 60_000;
  const server = await serveAwsJson({
    'AWSEC2InstanceConnectService.SendSSHPublicKey': async (input) => {
      const instanceId = typeof input['InstanceId'] === 'string' ? input['InstanceId'] : '';
      const osUser = input['InstanceOSUser'];
      const publicKey = input['SSHPublicKey'];
      if (instanceId !== options.instanceId) return awsError('EC2InstanceNotFoundException', `Instance ${instanceId} not found`);
      if (osUser !== bastion.user || typeof publicKey !== 'string') return awsError('InvalidArgsException', 'unknown OS user or no key');
      const at = Date.now();
      await bastion.authorizeUntil(publicKey, at + validityMs);
      pushed.push({ instanceId, osUser, publicKey, at });
      return { status: 200, body: { RequestId: randomUUID(), Success: true } };
    },
  });
  return { url: server.url, pushed, close: () => server.close() };
}
