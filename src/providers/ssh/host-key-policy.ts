import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DbSwitchConfig } from '../../config/config.js';
import { DbSwitchError } from '../../errors.js';
import type { Logger } from '../../logging/create-logger.js';
import { fingerprintOf, hostToken, judgeHostKey, keyTypeOf, knownHostsLine, parseKnownHosts } from './known-hosts.js';

/** How the bastion's host key was accepted, for `dbswitch check`. */
export interface HostKeyCheck {
  readonly fingerprint: string;
  readonly keyType: string;
  readonly verifiedBy: string;
}

/**
 * Decides whether to trust the key a bastion presents: a pinned fingerprint if one is set,
 * otherwise known_hosts under SSH_STRICT_HOST_KEY_CHECKING (yes, accept-new, no).
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

  /** Returns how the key was verified, or throws EHOSTKEY saying why not and how to fix it. */
  check(keyBlob: Buffer): HostKeyCheck {
    const fingerprint = fingerprintOf(keyBlob);
    const keyType = keyTypeOf(keyBlob);
    const { hostKeyFingerprint: pin, strictHostKeyChecking: mode, knownHostsPath: path } = this.#ssh;
    const where = `the bastion ${this.#token} (ssh.host SSH_HOST, ssh.port SSH_PORT)`;

    if (pin !== undefined) {
      if (pin.replace(/=+$/, '') === fingerprint) return { fingerprint, keyType, verifiedBy: 'the pinned SSH_HOST_KEY_FINGERPRINT' };
      throw new DbSwitchError(
        'EHOSTKEY',
        `${where} presented host key ${fingerprint} (${keyType}), not the pinned ssh.hostKeyFingerprint (SSH_HOST_KEY_FINGERPRINT) ${pin}. ` +
          'If the bastion was rebuilt, pin its new key; otherwise someone may be intercepting the connection.',
      );
    }
    if (mode === 'no') {
      this.#logger.warn(
        { fingerprint },
        `SSH HOST KEY NOT VERIFIED: SSH_STRICT_HOST_KEY_CHECKING=no accepts any key from ${this.#token}, so anyone on the path can read the database traffic and credentials`,
      );
      return { fingerprint, keyType, verifiedBy: 'NOT verified (SSH_STRICT_HOST_KEY_CHECKING=no)' };
    }

    const entries = existsSync(path) ? parseKnownHosts(readFileSync(path, 'utf8')) : [];
    const verdict = judgeHostKey(entries, this.#token, keyBlob);
    switch (verdict.kind) {
      case 'known':
        return { fingerprint, keyType, verifiedBy: `known_hosts ${path}:${verdict.entry.lineNumber}` };
      case 'revoked':
        throw new DbSwitchError('EHOSTKEY', `${where} presented host key ${fingerprint}, which ${path}:${verdict.entry.lineNumber} marks @revoked.`);
      case 'changed': {
        const expected = verdict.expected.map((entry) => `${fingerprintOf(Buffer.from(entry.keyBase64, 'base64'))} (${path}:${entry.lineNumber})`);
        throw new DbSwitchError(
          'EHOSTKEY',
          `HOST KEY CHANGED: ${where} presented ${keyType} key ${fingerprint}, but ssh.knownHostsPath (SSH_KNOWN_HOSTS) has ${expected.join(', ')}. ` +
            'Someone may be intercepting the connection, or the bastion was rebuilt. If you have checked the new fingerprint with its owner, ' +
            `remove the old entry (ssh-keygen -R '${this.#token}' -f ${path}) and connect once with SSH_STRICT_HOST_KEY_CHECKING=accept-new.`,
        );
      }
      case 'unknown':
        if (mode === 'accept-new') {
          mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
          appendFileSync(path, `${knownHostsLine(this.#token, keyBlob)}\n`, { mode: 0o600 });
          this.#logger.info({ fingerprint, path }, `recorded the new host key of ${this.#token} (SSH_STRICT_HOST_KEY_CHECKING=accept-new)`);
          return { fingerprint, keyType, verifiedBy: `accepted as new and recorded in ${path}` };
        }
        throw new DbSwitchError(
          'EHOSTKEY',
          `${where} is not in ssh.knownHostsPath (SSH_KNOWN_HOSTS) ${path}; it presented ${keyType} key ${fingerprint}. ` +
            'Check that fingerprint with the bastion\'s owner (on the bastion: ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then trust it: ' +
            `set SSH_HOST_KEY_FINGERPRINT=${fingerprint}, or add it with ssh-keyscan -p ${this.#ssh.port} ${this.#ssh.host ?? ''} >> ${path}, ` +
            'or connect once with SSH_STRICT_HOST_KEY_CHECKING=accept-new.',
        );
    }
  }
}
