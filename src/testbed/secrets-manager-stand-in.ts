import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local Secrets Manager endpoint serving GetSecretValue from a map. */
export interface SecretsManagerStandIn {
  /** `http://127.0.0.1:port`, for the SDK's `endpoint` option or AWS_ENDPOINT_URL_SECRETS_MANAGER. */
  readonly url: string;
  /** How many GetSecretValue calls it answered. */
  readonly reads: number;
  /** Sets (or rotates) a secret's SecretString. */
  put(secretId: string, value: string): void;
  close(): Promise<void>;
}

/** Serves `secretsmanager.GetSecretValue` (AWS JSON 1.1, as the real SDK sends it) on 127.0.0.1. */
export async function startSecretsManagerStandIn(): Promise<SecretsManagerStandIn> {
  const secrets = new Map<string, string>();
  let reads = 0;
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
    if (request.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
      reply(400, { __type: 'UnknownOperationException', message: 'only GetSecretValue is served here' });
      return;
    }
    const { SecretId: secretId = '' } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { SecretId?: string };
    const value = secrets.get(secretId);
    if (value === undefined) {
      reply(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
      return;
    }
    reads++;
    reply(200, { ARN: `arn:aws:secretsmanager:eu-west-1:000000000000:secret:${secretId}`, Name: secretId, SecretString: value, VersionId: randomUUID() });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get reads() {
      return reads;
    },
    put(secretId, value) {
      secrets.set(secretId, value);
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => { resolve(); });
      }),
  };
}
