import { settingLabel } from '../../config/setting-label.js';
import { channelRefusal, errorLevel } from '../../driver/ssh2.js';
import { DbSwitchError } from '../../errors.js';

/** What a failed SSH connect was: to the bastion at `address`, as `user`, with which credentials. */
export interface SshTarget {
  readonly address: string;
  readonly user: string;
  /** How the login was attempted, e.g. "the key in SSH_PRIVATE_KEY_PATH and the agent (SSH_AUTH_SOCK)". */
  readonly credentials: string;
}

/** Turns a failed SSH handshake or login into a DbSwitchError that names the setting to fix. */
export function sshConnectError(err: unknown, target: SshTarget): DbSwitchError {
  const message = err instanceof Error ? err.message : String(err);
  const level = errorLevel(err);
  if (/bad passphrase|integrity check failed|decrypt/i.test(message)) {
    return new DbSwitchError('ECONFIG', `${settingLabel('ssh.passphrase')}: it does not decrypt the private key (${message}).`, { cause: err });
  }
  if (/no passphrase given|Encrypted private/i.test(message)) {
    return new DbSwitchError('ECONFIG', `${settingLabel('ssh.passphrase')}: the private key is encrypted; set the passphrase that decrypts it.`, { cause: err });
  }
  if (/privateKey|Unsupported key format|Cannot parse/i.test(message)) {
    return new DbSwitchError(
      'ECONFIG',
      `${settingLabel('ssh.privateKeyPath')} / ${settingLabel('ssh.privateKey')}: the key cannot be used: ${message}`,
      { cause: err },
    );
  }
  if (level === 'client-authentication') {
    return new DbSwitchError(
      'EAUTH',
      `the bastion ${target.address} refused user '${target.user}' (${settingLabel('ssh.user')}) with ${target.credentials}: ${message}. ` +
        `Check ${settingLabel('ssh.privateKeyPath')}, ${settingLabel('ssh.privateKey')}, the agent (${settingLabel('ssh.agentSocket')}: is it still running?) or ${settingLabel('ssh.ec2InstanceId')}.`,
      { cause: err },
    );
  }
  if (level === 'client-timeout' || /timed out/i.test(message)) {
    return new DbSwitchError(
      'ETUNNEL',
      `the bastion ${target.address} did not complete the SSH handshake within ${settingLabel('db.connectTimeoutMs')}; check ${settingLabel('ssh.host')} and ${settingLabel('ssh.port')}`,
      { cause: err },
    );
  }
  return new DbSwitchError(
    'ETUNNEL',
    `cannot open the SSH connection to the bastion ${target.address} (${settingLabel('ssh.host')}, ${settingLabel('ssh.port')}): ${message}`,
    { cause: err },
  );
}

/** Why the bastion refused to open a channel to the database. */
export function forwardRefusal(err: unknown, bastion: string, host: string, port: number): DbSwitchError {
  const reason = channelRefusal(err);
  const why =
    reason === 1
      ? 'administratively prohibited: its sshd forbids forwarding for this user (AllowTcpForwarding, PermitOpen)'
      : reason === 2
        ? `it could not connect to ${host}:${port}; check ${settingLabel('db.host')} and ${settingLabel('db.port')} as the bastion sees them`
        : reason === 4
          ? 'resource shortage (too many channels)'
          : err instanceof Error
            ? err.message
            : String(err);
  return new DbSwitchError('ETUNNEL', `the bastion ${bastion} refused to forward to ${host}:${port}: ${why}`, { cause: err });
}
