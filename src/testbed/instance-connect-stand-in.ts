import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
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
 * Serves SendSSHPublicKey (AWS JSON 1.1, as the real SDK sends it) on 127.0.0.1: a key pushed for
 * `instanceId` and the bastion's user becomes valid in `bastion` for `validityMs` (60 s, as AWS
 * does, unless a test shortens it). Other instances get EC2InstanceNotFoundException.
 */
export async function startInstanceConnectStandIn(
  bastion: SshSandbox,
  options: { instanceId: string; validityMs?: number },
): Promise<InstanceConnectStandIn> {
  const pushed: PushedKey[] = [];
  const validityMs = options.validityMs ?? 60_000;
  const server = createServer((request, response) => {
    void handle(request, response);
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const reply = (status: number, body: object): void => {
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
      response.end(JSON.stringify(body));
    };
    if (request.headers['x-amz-target'] !== 'AWSEC2InstanceConnectService.SendSSHPublicKey') {
      reply(400, { __type: 'UnknownOperationException', message: 'only SendSSHPublicKey is served here' });
      return;
    }
    const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { InstanceId?: string; InstanceOSUser?: string; SSHPublicKey?: string };
    if (input.InstanceId !== options.instanceId) {
      reply(400, { __type: 'EC2InstanceNotFoundException', message: `Instance ${input.InstanceId ?? ''} not found` });
      return;
    }
    if (input.InstanceOSUser !== bastion.user || input.SSHPublicKey === undefined) {
      reply(400, { __type: 'InvalidArgsException', message: 'unknown OS user or no key' });
      return;
    }
    const at = Date.now();
    await bastion.authorizeUntil(input.SSHPublicKey, at + validityMs);
    pushed.push({ instanceId: input.InstanceId, osUser: input.InstanceOSUser, publicKey: input.SSHPublicKey, at });
    reply(200, { RequestId: randomUUID(), Success: true });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    pushed,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => { resolve(); });
      }),
  };
}
