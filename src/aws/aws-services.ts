import type { EC2InstanceConnectClientConfig } from '@aws-sdk/client-ec2-instance-connect';
import type { ServiceId } from '../container.js';

/** AWS credentials as the SDK resolves them; `expiration` is set for temporary ones. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** Pushes an SSH public key to an EC2 instance for 60 seconds (EC2 Instance Connect). */
export interface InstanceConnect {
  sendSshPublicKey(input: { readonly instanceId: string; readonly osUser: string; readonly publicKey: string }): Promise<void>;
}

/** What an RDS IAM token is signed for. */
export interface RdsTokenRequest {
  readonly hostname: string;
  readonly port: number;
  readonly username: string;
  readonly region: string;
  readonly credentials: AwsCredentials;
}

/**
 * The AWS APIs dbswitch calls, behind one seam: bound in the container as AWS_SERVICES, so an
 * application (or a test) can point the real SDK elsewhere with `sdkAwsServices({ endpoints })`.
 */
export interface AwsServices {
  /** Resolves credentials (the SDK's default chain unless told otherwise). */
  credentials(): Promise<AwsCredentials>;
  /** Signs an RDS IAM authentication token (15 minutes, the RDS maximum). */
  signRdsToken(request: RdsTokenRequest): Promise<string>;
  /** The SecretString of a Secrets Manager secret. */
  getSecret(region: string, secretId: string): Promise<string>;
  instanceConnect(region: string): InstanceConnect;
}

/** Client settings; by default the SDK's own chain and endpoints decide. */
export interface SdkOptions {
  /** Per-service endpoint overrides (the SDK's `endpoint` option), e.g. a local stand-in. */
  readonly endpoints?: { readonly secretsManager?: string; readonly ec2InstanceConnect?: string };
  readonly credentials?: NonNullable<EC2InstanceConnectClientConfig['credentials']>;
}

/**
 * AwsServices on the AWS SDK v3. The SDK is imported on first use, so applications that never
 * call AWS do not load it.
 *
 * @example
 * container.rebind(AWS_SERVICES).toConstantValue(sdkAwsServices({ endpoints: { secretsManager: 'http://127.0.0.1:4566' } }));
 */
export function sdkAwsServices(options: SdkOptions = {}): AwsServices {
  let chain: (() => Promise<AwsCredentials>) | undefined;
  const credentials = async (): Promise<AwsCredentials> => {
    if (options.credentials !== undefined) {
      return typeof options.credentials === 'function' ? options.credentials() : options.credentials;
    }
    if (chain === undefined) {
      const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
      chain = fromNodeProviderChain();
    }
    return chain();
  };
  const clientOptions = (endpoint: string | undefined): Record<string, unknown> => ({
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  });

  return {
    credentials,
    async signRdsToken(request) {
      const { Signer } = await import('@aws-sdk/rds-signer');
      return new Signer({
        hostname: request.hostname,
        port: request.port,
        username: request.username,
        region: request.region,
        credentials: request.credentials,
      }).getAuthToken();
    },
    async getSecret(region, secretId) {
      const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
      const client = new SecretsManagerClient({ region, ...clientOptions(options.endpoints?.secretsManager) });
      try {
        const result = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
        if (result.SecretString === undefined) throw new Error('the secret has no SecretString (binary secrets are not supported)');
        return result.SecretString;
      } finally {
        client.destroy();
      }
    },
    instanceConnect(region) {
      return {
        async sendSshPublicKey(input) {
          const { EC2InstanceConnectClient, SendSSHPublicKeyCommand } = await import('@aws-sdk/client-ec2-instance-connect');
          const client = new EC2InstanceConnectClient({ region, ...clientOptions(options.endpoints?.ec2InstanceConnect) });
          try {
            const result = await client.send(
              new SendSSHPublicKeyCommand({ InstanceId: input.instanceId, InstanceOSUser: input.osUser, SSHPublicKey: input.publicKey }),
            );
            if (result.Success !== true) throw new Error('EC2 Instance Connect did not confirm the key');
          } finally {
            client.destroy();
          }
        },
      };
    },
  };
}

/** The container's token for the AWS APIs (rebind it to point the SDK elsewhere, as the tests do). */
export const AWS_SERVICES: ServiceId<AwsServices> = Symbol.for('dbswitch.AwsServices');
