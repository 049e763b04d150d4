import { readFileSync } from 'node:fs';
import type { DbSwitchConfig } from '../../config/config.js';
import { settingLabel } from '../../config/setting-label.js';
import { DbSwitchError } from '../../errors.js';
import type { ClientChannel } from '../../driver/ssh2.js';
import type { Logger } from '../../logging/create-logger.js';
import { backoffMs, reconnectDelayMs } from './backoff.js';
import { HostKeyPolicy } from './host-key-policy.js';
import { SshLink, type SshCredentials, type TunnelReport } from './ssh-link.js';

export type { SshCredentials, TunnelReport } from './ssh-link.js';

/**
 * The tunnel's life. `down` remembers failures for the backoff; `closing` makes every new use
 * wait until the old connection is gone, so nobody is handed a dying client.
 */
type TunnelState =
  | { readonly name: 'down'; readonly failures: number; readonly retryAt: number }
  | { readonly name: 'connecting'; readonly link: Promise<SshLink>; readonly failures: number }
  | { readonly name: 'up'; readonly link: SshLink }
  | { readonly name: 'closing'; readonly done: Promise<void> };

/** A forwarded channel and the SSH connection it rides on. */
export interface Forwarded {
  readonly channel: ClientChannel;
  readonly link: SshLink;
}

/**
 * One SSH connection to the bastion at a time, shared by every database connection (each rides
 * its own channel), opened on demand, reopened with jittered backoff after a drop, and closed by
 * the provider after the linger. While no database connection is in use, its socket does not
 * keep the process alive.
 */
export class SshTunnel {
  readonly #ssh: DbSwitchConfig['ssh'];
  readonly #connectTimeoutMs: number;
  readonly #logger: Logger;
  readonly #hostKeys: HostKeyPolicy;
  readonly #credentials: () => Promise<SshCredentials>;
  #state: TunnelState = { name: 'down', failures: 0, retryAt: 0 };
  #held = 0;
  #report: TunnelReport | undefined;

  constructor(ssh: DbSwitchConfig['ssh'], connectTimeoutMs: number, logger: Logger, credentials?: () => Promise<SshCredentials>) {
    this.#ssh = ssh;
    this.#connectTimeoutMs = connectTimeoutMs;
    this.#logger = logger;
    this.#hostKeys = new HostKeyPolicy(ssh, logger);
    this.#credentials = credentials ?? (() => Promise.resolve(staticCredentials(ssh)));
  }

  /** What the last successful connect found. */
  get report(): TunnelReport | undefined {
    return this.#report;
  }

  get address(): string {
    return `${this.#ssh.host ?? ''}:${this.#ssh.port}`;
  }

  /** Channels open now on the current SSH connection (0 when it is down). */
  get channels(): number {
    return this.#state.name === 'up' ? this.#state.link.channels : 0;
  }

  /** Connects now if not connected, so a CLI fails fast and can report the host key. */
  async open(): Promise<void> {
    await this.#link();
  }

  /** Opens a channel to `host:port` as the bastion sees it; connects first if needed. */
  async forward(host: string, port: number): Promise<Forwarded> {
    const link = await this.#link();
    const channel = await link.forward(host, port, this.#connectTimeoutMs);
    return { channel, link };
  }

  /** A database connection on this tunnel is in use: keep the process alive. */
  hold(): void {
    if (this.#held++ === 0 && this.#state.name === 'up') this.#state.link.setHeld(true);
  }

  /** One fewer in use; with none, the idle tunnel no longer keeps the process alive. */
  letGo(): void {
    if (--this.#held === 0 && this.#state.name === 'up') this.#state.link.setHeld(false);
  }

  /** Ends the SSH connection (channels close with it). Safe to call in any state. */
  close(): Promise<void> {
    const state = this.#state;
    switch (state.name) {
      case 'down':
        return Promise.resolve();
      case 'closing':
        return state.done;
      case 'up':
      case 'connecting': {
        const done = (async (): Promise<void> => {
          const link = state.name === 'up' ? state.link : await state.link.catch(() => undefined);
          await link?.end();
        })().finally(() => {
          if (this.#state.name === 'closing' && this.#state.done === done) this.#state = { name: 'down', failures: 0, retryAt: 0 };
        });
        this.#state = { name: 'closing', done };
        return done;
      }
    }
  }

  async #link(): Promise<SshLink> {
    for (;;) {
      const state = this.#state;
      switch (state.name) {
        case 'up':
          return state.link;
        case 'connecting':
          return state.link;
        case 'closing':
          await state.done;
          continue;
        case 'down':
          return this.#connect(state.failures, state.retryAt);
      }
    }
  }

  #connect(failures: number, retryAt: number): Promise<SshLink> {
    const attempt = (async (): Promise<SshLink> => {
      const wait = retryAt - Date.now();
      // Ref'd: someone is waiting for this connection.
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      return SshLink.open({
        ssh: this.#ssh,
        connectTimeoutMs: this.#connectTimeoutMs,
        hostKeys: this.#hostKeys,
        credentials: await this.#credentials(),
        logger: this.#logger,
        onDrop: (dropped) => {
          this.#dropped(dropped);
        },
      });
    })().then(
      (link) => {
        if (this.#state.name === 'connecting' && this.#state.link === attempt) {
          this.#state = { name: 'up', link };
          this.#report = link.report;
          link.setHeld(this.#held > 0);
          this.#logger.debug({ bastion: this.address, hostKey: link.report.hostKey.fingerprint }, 'SSH connection to the bastion is up');
        }
        // Otherwise close() took over while connecting and ends this link.
        return link;
      },
      (err: unknown) => {
        if (this.#state.name === 'connecting' && this.#state.link === attempt) {
          this.#state = { name: 'down', failures: failures + 1, retryAt: Date.now() + backoffMs(failures + 1) };
        }
        throw err;
      },
    );
    this.#state = { name: 'connecting', link: attempt, failures };
    return attempt;
  }

  #dropped(link: SshLink): void {
    if (this.#state.name !== 'up' || this.#state.link !== link) return;
    this.#logger.warn({ bastion: this.address, reason: link.downReason }, 'SSH connection to the bastion dropped; the next connection reconnects');
    this.#state = { name: 'down', failures: 1, retryAt: Date.now() + reconnectDelayMs() };
  }
}

/** Key from file or env, passphrase, agent: what ssh2 takes, read at connect time. */
function staticCredentials(ssh: DbSwitchConfig['ssh']): SshCredentials {
  const privateKey = ssh.privateKey ?? (ssh.privateKeyPath === undefined ? undefined : readKey(ssh.privateKeyPath));
  return {
    ...(privateKey === undefined ? {} : { privateKey }),
    ...(ssh.passphrase === undefined ? {} : { passphrase: ssh.passphrase }),
    ...(ssh.agentSocket === undefined ? {} : { agent: ssh.agentSocket }),
  };
}

function readKey(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new DbSwitchError('ECONFIG', `${settingLabel('ssh.privateKeyPath')}: cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
