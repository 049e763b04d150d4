import type { EC2InstanceConnectClientConfig } from '@aws-sdk/client-ec2-instance-connect';

/** Pushes an SSH public key to an EC2 instance for 60 seconds (EC2 Instance Connect). */
export interface InstanceConnect {
  sendSshPublicKey(input: { readonly instanceId: string; readonly osUser: string; readonly publicKey: string }): Promise<void>;
}

/**
 * The AWS APIs dbswitch calls, behind one seam: bound in the container as AWS_SERVICES, so an
 * application (or a test) can point the real SDK elsewhere with `sdkAwsServices({ endpoint })`.
 */
export interface AwsServices {
  instanceConnect(region: string): InstanceConnect;
}

/** Client settings passed to every SDK client; by default the SDK's own chain decides. */
export interface SdkOptions {
  readonly endpoint?: string;
  readonly credentials?: NonNullable<EC2InstanceConnectClientConfig['credentials']>;
}

/**
 * AwsServices on the AWS SDK v3. Clients are made on first use and the SDK is imported then,
 * so applications that never call AWS do not load it.
 *
 * @example
 * container.rebind(AWS_SERVICES).toConstantValue(sdkAwsServices({ endpoint: 'http://127.0.0.1:4566' }));
 */
export function sdkAwsServices(options: SdkOptions = {}): AwsServices {
  return {
    instanceConnect(region) {
      return {
        async sendSshPublicKey(input) {
          const { EC2InstanceConnectClient, SendSSHPublicKeyCommand } = await import('@aws-sdk/client-ec2-instance-connect');
          const client = new EC2InstanceConnectClient({ region, ...options });
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
