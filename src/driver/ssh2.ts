/**
 * The slice of ssh2 that dbswitch depends on, in one place, so an upgrade touches one file.
 * Checked against ssh2 1.17.0. The private API used here, and nowhere else: `client._protocol.ping()`.
 *
 * ssh2 is loaded on first use (about 95 ms): an application on basic or aws never pays for it.
 */
import type { Client, ClientChannel, ConnectConfig } from 'ssh2';

export type { ClientChannel, ConnectConfig };
export type SshClient = Client;

type Ssh2Module = typeof import('ssh2');
let loaded: Promise<Ssh2Module> | undefined;

function ssh2(): Promise<Ssh2Module> {
  loaded ??= import('ssh2').then((module) => ('default' in module ? (module as { default: Ssh2Module }).default : module));
  return loaded;
}

/** A new, unconnected ssh2 client. */
export async function createSshClient(): Promise<SshClient> {
  const { Client: SshClientClass } = await ssh2();
  return new SshClientClass();
}

/** What became of a keepalive. */
export type KeepaliveResult = { readonly sent: true } | { readonly sent: false; readonly why: string };

/**
 * Sends an SSH keepalive (a `keepalive@openssh.com` global request) on a connected client.
 * ssh2's own keepalive runs on a ref'd timer that would keep the process alive, so dbswitch runs
 * its own, unref'd; ssh2 has no public call for the packet, hence the one private access.
 */
export function sendKeepalive(client: SshClient): KeepaliveResult {
  const protocol = (client as unknown as { _protocol?: { ping?: () => void } })._protocol;
  if (typeof protocol?.ping !== 'function') return { sent: false, why: 'this ssh2 version has no _protocol.ping()' };
  try {
    protocol.ping();
    return { sent: true };
  } catch (err) {
    return { sent: false, why: err instanceof Error ? err.message : String(err) };
  }
}

/** The reason code of a refused channel open (RFC 4254 section 5.1), if the error carries one. */
export function channelRefusal(err: unknown): number | undefined {
  const reason = (err as { reason?: unknown }).reason;
  return typeof reason === 'number' ? reason : undefined;
}

/** Where in ssh2's connect an error arose ('client-authentication', 'client-socket', 'client-timeout', ...). */
export function errorLevel(err: unknown): string | undefined {
  const level = (err as { level?: unknown } | null)?.level;
  return typeof level === 'string' ? level : undefined;
}

/** Bound on key generation attempts; each fails with probability 1/256 (see generateEd25519). */
const KEYGEN_ATTEMPTS = 8;

/**
 * A new ed25519 key pair in OpenSSH formats, in memory. ssh2 1.17 strips the leading zero bytes
 * of the public key it generates (mscdex/ssh2#1513), so one key in 256 is malformed and ssh2
 * itself refuses it at connect ("Malformed OpenSSH private key"). Such a pair is generated again.
 */
export async function generateEd25519(comment: string): Promise<{ publicKey: string; privateKey: string }> {
  const { utils } = await ssh2();
  for (let attempt = 1; ; attempt++) {
    const pair = utils.generateKeyPairSync('ed25519', { comment });
    if (attempt === KEYGEN_ATTEMPTS || (!(utils.parseKey(pair.private) instanceof Error) && !(utils.parseKey(pair.public) instanceof Error))) {
      return { publicKey: pair.public, privateKey: pair.private };
    }
  }
}
