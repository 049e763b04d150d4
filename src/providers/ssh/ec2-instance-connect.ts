import type { InstanceConnect } from '../../aws/aws-services.js';
import type { DbSwitchConfig } from '../../config/config.js';
import { generateEd25519 } from '../../driver/ssh2.js';
import { DbSwitchError } from '../../errors.js';
import type { Logger } from '../../logging/create-logger.js';
import type { SshCredentials } from './ssh-link.js';

/**
 * Credentials for each SSH connect with EC2 Instance Connect: a new ed25519 key made in memory,
 * pushed with SendSSHPublicKey just before the connect (AWS honours it for 60 seconds), never
 * written to disk. The automation source 001 wished it had.
 */
export function instanceConnectCredentials(ssh: DbSwitchConfig['ssh'], instanceConnect: InstanceConnect, logger: Logger): () => Promise<SshCredentials> {
  const instanceId = ssh.ec2InstanceId ?? '';
  const osUser = ssh.user ?? '';
  return async () => {
    const key = await generateEd25519(`dbswitch ephemeral ${new Date().toISOString()}`);
    try {
      await instanceConnect.sendSshPublicKey({ instanceId, osUser, publicKey: key.publicKey });
    } catch (err) {
      const name = (err as { name?: unknown }).name;
      const code = name === 'CredentialsProviderError' || name === 'AccessDeniedException' || name === 'UnrecognizedClientException' ? 'EAUTH' : 'ETUNNEL';
      throw new DbSwitchError(
        code,
        `EC2 Instance Connect could not push a key to ${instanceId} (ssh.ec2InstanceId SSH_EC2_INSTANCE_ID) for user '${osUser}' (SSH_USER): ` +
          `${err instanceof Error ? err.message : String(err)}. Check AWS_REGION, the AWS credentials and the ec2-instance-connect:SendSSHPublicKey permission.`,
        { cause: err },
      );
    }
    logger.debug({ instanceId, osUser }, 'pushed an ephemeral SSH key with EC2 Instance Connect');
    return { privateKey: key.privateKey };
  };
}
