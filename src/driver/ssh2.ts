/**
 * The slice of ssh2 that dbswitch depends on, in one place, so an upgrade touches one file.
 */
import ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig } from 'ssh2';

export type { ClientChannel, ConnectConfig };
export type SshClient = InstanceType<typeof ssh2.Client>;

/** A new, unconnected ssh2 client. */
export function createSshClient(): SshClient {
  return new ssh2.Client();
}

/**
 * Sends an SSH keepalive (a `keepalive@openssh.com` global request) on a connected client.
 * ssh2's own keepalive runs on a timer that keeps the process alive, so dbswitch runs its own,
 * unref'd; ssh2 has no public call for the packet, hence the one private access, kept here.
 * Returns false when this ssh2 version has no such call.
 */
export function sendKeepalive(client: SshClient): boolean {
  const protocol = (client as unknown as { _protocol?: { ping?: () => void } })._protocol;
  if (typeof protocol?.ping !== 'function') return false;
  protocol.ping();
  return true;
}

/** The reason code of a refused channel open (RFC 4254 section 5.1), if the error carries one. */
export function channelRefusal(err: unknown): number | undefined {
  const reason = (err as { reason?: unknown }).reason;
  return typeof reason === 'number' ? reason : undefined;
}

/** A new ed25519 key pair in OpenSSH formats, in memory. */
export function generateEd25519(comment: string): { publicKey: string; privateKey: string } {
  const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment });
  return { publicKey: pair.public, privateKey: pair.private };
}
