import { randomUUID } from 'node:crypto';
import { awsError, serveAwsJson } from './aws-json-server.js';

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

/** Serves `secretsmanager.GetSecretValue`, as the real SDK calls it, on 127.0.0.1. */
export async function startSecretsManagerStandIn(): Promise<SecretsManagerStandIn> {
  const secrets = new Map<string, string>();
  let reads = 0;
  const server = await serveAwsJson({
    'secretsmanager.GetSecretValue': (input) => {
      const secretId = typeof input['SecretId'] === 'string' ? input['SecretId'] : '';
      const value = secrets.get(secretId);
      if (value === undefined) return awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      reads++;
      return {
        status: 200,
        body: { ARN: `arn:aws:secretsmanager:eu-west-1:000000000000:secret:${secretId}`, Name: secretId, SecretString: value, VersionId: randomUUID() },
      };
    },
  });
  return {
    url: server.url,
    get reads() {
      return reads;
    },
    put(secretId, value) {
      secrets.set(secretId, value);
    },
    close: () => server.close(),
  };
}
