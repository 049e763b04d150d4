import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DbSwitchConfig } from '../../config/config.js';
import { settingLabel } from '../../config/setting-label.js';
import { DbSwitchError } from '../../errors.js';
import type { Logger } from '../../logging/create-logger.js';
import {
  fingerprintOf,
  hostToken,
  judgeHostKey,
  keyTypeOf,
  knownHostsLine,
  knownKeyTypes,
  parseKnownHosts,
  type KnownHost,
} from './known-hosts.js';

/** How the bastion's host key was accepted, for `dbswitch check`. */
export interface HostKeyCheck {
  readonly fingerprint: string;
  readonly keyType: string;
  readonly verifiedBy: string;
}

/**
 * ssh2 1.17's default `algorithms.serverHostKey` list, in its order (`DEFAULT_SERVER_HOST_KEY` in
 * ssh2/lib/protocol/constants.js; a unit test keeps the two equal). `ssh-dss` is supported by ssh2
 * but not offered by default, and OpenSSH dropped it, so a DSA key on record is never asked for.
 */
const SSH2_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
] as const;

/** A host key algorithm name ssh2 negotiates by default; assignable to ssh2's `ServerHostKeyAlgorithm`. */
export type HostKeyAlgorithm = (typeof SSH2_HOST_KEY_ALGORITHMS)[number];

/** The algorithms that make a server sign with a key of this type (an `ssh-rsa` key signs with SHA-2 too). */
const ALGORITHMS_OF_KEY_TYPE: ReadonlyMap<string, readonly HostKeyAlgorithm[]> = new Map<string, readonly HostKeyAlgorithm[]>([
  ['ssh-ed25519', ['ssh-ed25519']],
  ['ecdsa-sha2-nistp256', ['ecdsa-sha2-nistp256']],
  ['ecdsa-sha2-nistp384', ['ecdsa-sha2-nistp384']],
  ['ecdsa-sha2-nistp521', ['ecdsa-sha2-nistp521']],
  ['ssh-rsa', ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']],
]);

/**
 * Decides whether to trust the key a bastion presents: a pinned fingerprint if one is set,
 * otherwise known_hosts under SSH_STRICT_HOST_KEY_CHECKING, with OpenSSH's semantics:
 * - `yes`: only a key on record is accepted;
 * - `accept-new`: as `yes`, but a host with no key of any type on record has its key recorded;
 * - `no`: an unknown host is let in unverified (logged at error level at every connect); a
 *   changed or revoked key is still refused, since OpenSSH would disable forwarding there and
 *   forwarding is all dbswitch does.
 *
 * @example
 * const policy = new HostKeyPolicy(config.ssh, logger);
 * client.connect({
 *   host, port, username,
 *   algorithms: { serverHostKey: policy.preferredHostKeyAlgorithms() }, // when defined
 *   hostVerifier: (key: Buffer) => { policy.check(key); return true; },  // throws EHOSTKEY
 * });
 */
export class HostKeyPolicy {
  readonly #ssh: DbSwitchConfig['ssh'];
  readonly #logger: Logger;
  readonly #token: string;

  constructor(ssh: DbSwitchConfig['ssh'], logger: Logger) {
    this.#ssh = ssh;
    this.#logger = logger;
    this.#token = hostToken(ssh.host ?? '', ssh.port);
  }

  /**
   * ssh2's `algorithms.serverHostKey` list with the algorithms of the key types known_hosts holds
   * for this host first (ssh2's default order otherwise), as OpenSSH orders HostKeyAlgorithms: a
   * bastion with several host keys then signs with one on record instead of being refused as
   * changed because ssh2 preferred another type. Pass it as `algorithms.serverHostKey` in ssh2's
   * connect config, read again before every connect (the file may have changed).
   *
   * Returns undefined (keep ssh2's default) when a fingerprint is pinned or when the file holds no
   * key of a type ssh2 supports for this host.
   *
   * @throws DbSwitchError ECONFIG when known_hosts exists but cannot be read.
   * @example
   * const serverHostKey = policy.preferredHostKeyAlgorithms();
   * // known_hosts lists only an ssh-rsa key for the host:
   * // ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519', 'ecdsa-sha2-nistp256', ...]
   */
  preferredHostKeyAlgorithms(): HostKeyAlgorithm[] | undefined {
    if (this.#ssh.hostKeyFingerprint !== undefined) return undefined;
    const preferred = new Set(knownKeyTypes(this.#entries(), this.#token).flatMap((type) => ALGORITHMS_OF_KEY_TYPE.get(type) ?? []));
    if (preferred.size === 0) return undefined;
    return [...SSH2_HOST_KEY_ALGORITHMS.filter((name) => preferred.has(name)), ...SSH2_HOST_KEY_ALGORITHMS.filter((name) => !preferred.has(name))];
  }

  /**
   * Returns how the key was verified, or throws DbSwitchError EHOSTKEY saying why not and how to
   * verify and record the right key (ECONFIG when known_hosts cannot be read or written).
   *
   * @example
   * const { fingerprint, verifiedBy } = policy.check(keyBlob);
   */
  check(keyBlob: Buffer): HostKeyCheck {
    const fingerprint = fingerprintOf(keyBlob);
    const keyType = keyTypeOf(keyBlob);
    const { hostKeyFingerprint: pin, strictHostKeyChecking: mode, knownHostsPath: path } = this.#ssh;
    const offered = `${keyType} key ${fingerprint}`;

    if (pin !== undefined) {
      if (pin.replace(/=+$/, '') === fingerprint) return { fingerprint, keyType, verifiedBy: 'the pinned SSH_HOST_KEY_FINGERPRINT' };
      throw new DbSwitchError(
        'EHOSTKEY',
        `HOST KEY MISMATCH: the bastion ${this.#token} offered ${offered}, not the pinned ${settingLabel('ssh.hostKeyFingerprint')} ${pin}. ` +
          'Someone may be intercepting the connection, or the bastion was replaced and has new host keys (or it has several ' +
          `and the pin is of another one than its ${keyType} key). ${this.#howToVerify(fingerprint, keyType)} Only if it is, ` +
          `pin it: SSH_HOST_KEY_FINGERPRINT=${fingerprint}; or unset SSH_HOST_KEY_FINGERPRINT to check against ` +
          `${this.#knownHostsFile()} instead. ${this.#rebuildAdvice()}`,
      );
    }

    const verdict = judgeHostKey(this.#entries(), this.#token, keyBlob);
    const noNote =
      mode === 'no'
        ? ' SSH_STRICT_HOST_KEY_CHECKING=no does not let this through: with a changed or revoked key on record, OpenSSH still ' +
          'connects but disables port forwarding, and forwarding is all dbswitch does, so it refuses.'
        : '';
    switch (verdict.kind) {
      case 'known': {
        const verifiedBy = `known_hosts ${path}:${verdict.entry.lineNumber}`;
        if (mode === 'no') {
          this.#logger.error(
            { host: this.#token, keyType, fingerprint },
            `SSH HOST KEY CHECKING IS OFF (${settingLabel('ssh.strictHostKeyChecking')} is no): the key of ${this.#token} matched ${verifiedBy} this time, ` +
              'but an unknown key would have been accepted without verification. Set SSH_STRICT_HOST_KEY_CHECKING=yes.',
          );
        }
        return { fingerprint, keyType, verifiedBy };
      }
      case 'revoked':
        throw new DbSwitchError(
          'EHOSTKEY',
          `REVOKED HOST KEY: the bastion ${this.#token} offered ${offered}, which ${this.#knownHostsFile()} marks @revoked ` +
            `(line ${verdict.entry.lineNumber}); a revoked key is never accepted.${noNote} The bastion's owner must replace it; then ` +
            this.#howToUpdate(undefined),
        );
      case 'changed': {
        const onRecord = verdict.expected.map((entry) => `${entry.keyType} ${fingerprintOfEntry(entry)} (line ${entry.lineNumber})`);
        const acceptNewNote =
          mode === 'accept-new' ? ' SSH_STRICT_HOST_KEY_CHECKING=accept-new does not apply: a host listed with a key of any type is not new.' : '';
        throw new DbSwitchError(
          'EHOSTKEY',
          `HOST KEY CHANGED (REMOTE HOST IDENTIFICATION HAS CHANGED): the bastion ${this.#token} offered ${offered}, ` +
            `but ${this.#knownHostsFile()} lists it with ${onRecord.join(', ')}. Someone may be intercepting the connection ` +
            `(man in the middle), or the bastion was replaced and has new host keys.${acceptNewNote}${noNote} If it was replaced: ` +
            this.#howToUpdate({ fingerprint, keyType }),
        );
      }
      case 'cert-authority':
        if (mode === 'no') return this.#unverified(fingerprint, keyType);
        throw new DbSwitchError(
          'EHOSTKEY',
          `HOST KEY NOT VERIFIABLE: ${this.#knownHostsFile()} vouches for the bastion ${this.#token} only through @cert-authority ` +
            `(line ${verdict.authorities.map((entry) => entry.lineNumber).join(', ')}), which trusts host certificates; dbswitch's SSH ` +
            `library (ssh2) does not negotiate host certificates, so the bastion offered a plain ${offered}, which nothing on record ` +
            `vouches for. ${this.#howToVerify(fingerprint, keyType)} Only if it is, trust it: pin it with ` +
            `SSH_HOST_KEY_FINGERPRINT=${fingerprint}, or add the bastion's plain public key (${hostKeyFile(keyType)} on the bastion) ` +
            `to ${path} as a line '${this.#token} <type> <key>'.`,
        );
      case 'unknown':
        switch (mode) {
          case 'no':
            return this.#unverified(fingerprint, keyType);
          case 'accept-new':
            this.#record(keyBlob);
            this.#logger.info(
              { host: this.#token, keyType, fingerprint, path },
              `recorded the new host key of ${this.#token} in ${path} (SSH_STRICT_HOST_KEY_CHECKING=accept-new): ${offered}`,
            );
            return { fingerprint, keyType, verifiedBy: `accepted as new and recorded in ${path}` };
          case 'yes':
            throw new DbSwitchError(
              'EHOSTKEY',
              `UNKNOWN HOST KEY: the bastion ${this.#token} is not in ${this.#knownHostsFile()}, and ` +
                `${settingLabel('ssh.strictHostKeyChecking')} is yes. It offered ${offered}. Do not trust a key just because it ` +
                `answered (that is all ssh-keyscan does). ${this.#howToVerify(fingerprint, keyType)} Only if it is, trust it: ` +
                `pin it with SSH_HOST_KEY_FINGERPRINT=${fingerprint}, or connect once with SSH_STRICT_HOST_KEY_CHECKING=accept-new ` +
                `to record it in ${path} (and check that the fingerprint it logs is ${fingerprint}). ${this.#rebuildAdvice()}`,
            );
        }
    }
  }

  /** Under `no`, with nothing on record to hold the key against: let it in, loudly. */
  #unverified(fingerprint: string, keyType: string): HostKeyCheck {
    this.#logger.error(
      { host: this.#token, keyType, fingerprint },
      `SSH HOST KEY NOT VERIFIED: ${settingLabel('ssh.strictHostKeyChecking')} is no, so the ${keyType} key ${fingerprint} of ` +
        `${this.#token} was accepted without checking: anyone on the path can read the database traffic and credentials. ` +
        `Verify the key, then pin it (SSH_HOST_KEY_FINGERPRINT) or record it in ${this.#knownHostsFile()}, and set SSH_STRICT_HOST_KEY_CHECKING=yes.`,
    );
    return { fingerprint, keyType, verifiedBy: 'NOT verified (SSH_STRICT_HOST_KEY_CHECKING=no)' };
  }

  /** How to check a fingerprint out of band: on the bastion, or in the EC2 console output. */
  #howToVerify(fingerprint: string | undefined, keyType: string | undefined): string {
    const instance = this.#ssh.ec2InstanceId ?? '<instance-id>';
    return (
      `Verify it out of band first: the fingerprint the bastion's owner reads on the bastion ` +
      `(ssh-keygen -lf ${keyType === undefined ? '/etc/ssh/ssh_host_<type>_key.pub' : hostKeyFile(keyType)}) or finds in the EC2 ` +
      `console output, which prints the host key fingerprints at first boot (aws ec2 get-console-output --instance-id ${instance} ` +
      `--output text), must be ${fingerprint ?? 'the one you record'}.`
    );
  }

  /**
   * How to replace what known_hosts holds for the host: remove, verify, record. `offered` is the
   * key the bastion offers now, when that may be the new one (not when it is revoked).
   */
  #howToUpdate(offered: { fingerprint: string; keyType: string } | undefined): string {
    const path = this.#ssh.knownHostsPath;
    return (
      `remove the old entry (ssh-keygen -R ${shellQuote(this.#token)} -f ${shellQuote(path)}) and verify the new key. ` +
      `${this.#howToVerify(offered?.fingerprint, offered?.keyType)} Only if it is, record it: connect once with ` +
      `SSH_STRICT_HOST_KEY_CHECKING=accept-new, or pin it with SSH_HOST_KEY_FINGERPRINT=${offered?.fingerprint ?? '<fingerprint>'}. ` +
      this.#rebuildAdvice()
    );
  }

  /** Bastions behind autoscaling come back with new keys; say how to live with that. */
  #rebuildAdvice(): string {
    return (
      'A bastion that is rebuilt (autoscaling) generates new host keys each time: restore the same host keys at boot, ' +
      `or expect to update ${settingLabel('ssh.knownHostsPath')} or the pin after each rebuild.`
    );
  }

  #knownHostsFile(): string {
    return `${settingLabel('ssh.knownHostsPath')} ${this.#ssh.knownHostsPath}`;
  }

  /** The file's entries; a missing file holds none. */
  #entries(): KnownHost[] {
    const path = this.#ssh.knownHostsPath;
    try {
      return parseKnownHosts(readFileSync(path, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new DbSwitchError('ECONFIG', `cannot read ${settingLabel('ssh.knownHostsPath')} ${path}: ${errorText(err)}`, { cause: err });
    }
  }

  /** Appends the key's line, on a line of its own even when the file lacks a final newline. */
  #record(keyBlob: Buffer): void {
    const path = this.#ssh.knownHostsPath;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const separator = endsWithoutNewline(path) ? '\n' : '';
      appendFileSync(path, `${separator}${knownHostsLine(this.#token, keyBlob)}\n`, { mode: 0o600 });
    } catch (err) {
      throw new DbSwitchError('ECONFIG', `cannot record the new host key in ${settingLabel('ssh.knownHostsPath')} ${path}: ${errorText(err)}`, {
        cause: err,
      });
    }
  }
}

function fingerprintOfEntry(entry: KnownHost): string {
  return fingerprintOf(Buffer.from(entry.keyBase64, 'base64'));
}

/** Where sshd keeps the public host key of this type (Debian, Amazon Linux, Ubuntu alike). */
function hostKeyFile(keyType: string): string {
  if (keyType === 'ssh-ed25519') return '/etc/ssh/ssh_host_ed25519_key.pub';
  if (keyType === 'ssh-rsa') return '/etc/ssh/ssh_host_rsa_key.pub';
  if (keyType.startsWith('ecdsa-')) return '/etc/ssh/ssh_host_ecdsa_key.pub';
  return '/etc/ssh/ssh_host_*_key.pub';
}

function endsWithoutNewline(path: string): boolean {
  try {
    const text = readFileSync(path);
    return text.length > 0 && text[text.length - 1] !== 0x0a;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
