import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { DbSwitchConfig } from '../../config/config.js';
import { channelRefusal, createSshClient, sendKeepalive, type ClientChannel, type ConnectConfig, type SshClient } from '../../driver/ssh2.js';
import { DbSwitchError } from '../../errors.js';
import type { Logger } from '../../logging/create-logger.js';
import { HostKeyPolicy, type HostKeyCheck } from './host-key-policy.js';

/** One SSH connection's life: channels opened on it know whether it is still up. */
export interface TunnelGeneration {
  alive: boolean;
  /** Why it ended, once it has. */
  reason: string | undefined;
}

/** Credentials for one SSH login; `ec2-instance-connect.ts` makes a fresh one per connect. */
export type SshCredentials = Pick<ConnectConfig, 'privateKey' | 'passphrase' | 'agent'>;

/** What the last successful connect found, for `dbswitch check`. */
export interface TunnelReport {
  readonly hostKey: HostKeyCheck;
  readonly handshakeMs: number;
}

const KEEPALIVE_MISSES_ALLOWED = 3;
const CLOSE_WAIT_MS = 1000;
const BACKOFF_BASE_MS = 250;
const BACKOFF_MAX_MS = 8000;

/**
 * One SSH connection to the bastion, shared by every pooled database connection (each rides its
 * own forwarded channel), opened on demand and closed by the provider after the linger.
 *
 * The socket is the tunnel's: it is unref'd while no database connection is in use, and the
 * keepalive runs on an unref'd timer, so an idle tunnel never keeps the process alive.
 */
export class SshTunnel {
  readonly #ssh: DbSwitchConfig['ssh'];
  readonly #connectTimeoutMs: number;
  readonly #logger: Logger;
  readonly #hostKeys: HostKeyPolicy;
  readonly #credentials: () => Promise<SshCredentials>;
  #client: SshClient | undefined;
  #socket: Socket | undefined;
  #generation: TunnelGeneration = { alive: false, reason: undefined };
  #connecting: Promise<SshClient> | undefined;
  #keepalive: NodeJS.Timeout | undefined;
  #held = 0;
  #failures = 0;
  #retryAt = 0;
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

  /** Connects now (if not connected), so a CLI fails fast and can report the host key. */
  async open(): Promise<void> {
    await this.#connected();
  }

  /** Opens a channel to `host:port` as the bastion sees it; connects first if needed. */
  async forward(host: string, port: number): Promise<{ channel: ClientChannel; generation: TunnelGeneration }> {
    const client = await this.#connected();
    const generation = this.#generation;
    const channel = await new Promise<ClientChannel>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        reject(new DbSwitchError('ETUNNEL', `the bastion ${this.address} did not open a channel to ${host}:${port} within db.connectTimeoutMs (DB_CONNECT_TIMEOUT_MS); check DB_HOST and DB_PORT as the bastion sees them`));
      }, this.#connectTimeoutMs);
      client.forwardOut('127.0.0.1', 0, host, port, (err, opened) => {
        clearTimeout(timer);
        if (settled) {
          // Too late: the caller has given up; close what arrived.
          opened.destroy();
          return;
        }
        settled = true;
        if (err) reject(this.#refusal(err, host, port));
        else resolve(opened);
      });
    });
    return { channel, generation };
  }

  /** A database connection on this tunnel is in use: keep the process alive. */
  hold(): void {
    if (this.#held++ === 0) this.#socket?.ref();
  }

  /** One fewer in use; with none, the idle tunnel no longer keeps the process alive. */
  letGo(): void {
    if (--this.#held === 0) this.#socket?.unref();
  }

  /** Ends the SSH connection (channels close with it). Safe to call when closed. */
  async close(): Promise<void> {
    await this.#connecting?.catch(() => undefined);
    const client = this.#client;
    const socket = this.#socket;
    if (client === undefined || socket === undefined) return;
    this.#generation.reason = 'closed by dbswitch';
    // Done when the socket closes, or after a bounded wait for a bastion that does not answer the
    // disconnect. The timer is ref'd on purpose: a caller awaiting close() must not see the
    // process exit under them (exit code 13) if no 'close' ever comes.
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      if (socket.destroyed) {
        resolve();
        return;
      }
      socket.once('close', () => {
        resolve();
      });
      timer = setTimeout(() => {
        socket.destroy();
        resolve();
      }, CLOSE_WAIT_MS);
      client.end();
    });
    clearTimeout(timer);
  }

  #connected(): Promise<SshClient> {
    if (this.#client !== undefined && this.#generation.alive) return Promise.resolve(this.#client);
    // Concurrent first sessions share one handshake.
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connect(): Promise<SshClient> {
    const wait = this.#retryAt - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const started = performance.now();
    const client = createSshClient();
    const socket = connect({ host: this.#ssh.host ?? '', port: this.#ssh.port, noDelay: true });
    let hostKey: HostKeyCheck | undefined;
    let hostKeyError: DbSwitchError | undefined;
    try {
      const credentials = await this.#credentials();
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error): void => {
          client.removeListener('ready', onReady);
          reject(err);
        };
        const onReady = (): void => {
          client.removeListener('error', onError);
          resolve();
        };
        client.once('error', onError);
        client.once('ready', onReady);
        try {
          client.connect({
            sock: socket,
            username: this.#ssh.user ?? '',
            ...credentials,
            readyTimeout: this.#connectTimeoutMs,
            // dbswitch runs its own keepalive: ssh2's timer would keep the process alive.
            keepaliveInterval: 0,
            hostVerifier: (key: Buffer) => {
              try {
                hostKey = this.#hostKeys.check(key);
                return true;
              } catch (err) {
                hostKeyError = err as DbSwitchError;
                return false;
              }
            },
          });
        } catch (err) {
          onError(err as Error);
        }
      });
    } catch (err) {
      // ssh2 reports a failed handshake once more as the socket closes; it is already handled.
      client.on('error', () => undefined);
      socket.destroy();
      client.end();
      this.#failures++;
      this.#retryAt = Date.now() + backoffMs(this.#failures);
      throw hostKeyError ?? (err instanceof DbSwitchError ? err : this.#connectError(err));
    }

    this.#failures = 0;
    this.#retryAt = 0;
    const generation: TunnelGeneration = { alive: true, reason: undefined };
    this.#generation = generation;
    this.#client = client;
    this.#socket = socket;
    if (hostKey !== undefined) this.#report = { hostKey, handshakeMs: Math.round(performance.now() - started) };
    if (this.#held === 0) socket.unref();
    client.on('error', (err: Error) => {
      generation.reason ??= err.message;
    });
    client.once('close', () => {
      const unexpected = generation.reason !== 'closed by dbswitch';
      generation.alive = false;
      generation.reason ??= 'the bastion closed the connection';
      if (this.#client === client) {
        this.#client = undefined;
        this.#socket = undefined;
        this.#stopKeepalive();
      }
      if (unexpected) {
        this.#logger.warn({ bastion: this.address, reason: generation.reason }, 'SSH connection to the bastion dropped; the next session reconnects');
        // A short jittered pause before the first reconnect spreads out a fleet of clients.
        this.#failures = 1;
        this.#retryAt = Date.now() + Math.random() * BACKOFF_BASE_MS;
      }
    });
    this.#startKeepalive(client, socket);
    this.#logger.debug({ bastion: this.address, hostKey: hostKey?.fingerprint }, 'SSH connection to the bastion is up');
    return client;
  }

  #startKeepalive(client: SshClient, socket: Socket): void {
    const interval = this.#ssh.keepaliveIntervalMs;
    if (interval <= 0) return;
    let heard = true;
    let misses = 0;
    socket.on('data', () => {
      heard = true;
    });
    this.#keepalive = setInterval(() => {
      misses = heard ? 0 : misses + 1;
      heard = false;
      if (misses > KEEPALIVE_MISSES_ALLOWED) {
        this.#generation.reason = `no answer to ${KEEPALIVE_MISSES_ALLOWED} keepalives (ssh.keepaliveIntervalMs SSH_KEEPALIVE_INTERVAL_MS = ${interval})`;
        socket.destroy();
        return;
      }
      if (!sendKeepalive(client)) this.#stopKeepalive();
    }, interval);
    this.#keepalive.unref();
  }

  #stopKeepalive(): void {
    clearInterval(this.#keepalive);
    this.#keepalive = undefined;
  }

  #connectError(err: unknown): DbSwitchError {
    const message = err instanceof Error ? err.message : String(err);
    const level = (err as { level?: unknown }).level;
    if (level === 'client-authentication') {
      return new DbSwitchError(
        'EAUTH',
        `the bastion ${this.address} refused user '${this.#ssh.user ?? ''}' (ssh.user SSH_USER) with the configured key: ${message}. ` +
          'Check SSH_PRIVATE_KEY_PATH / SSH_PRIVATE_KEY, the agent (SSH_AUTH_SOCK), or SSH_EC2_INSTANCE_ID.',
        { cause: err },
      );
    }
    if (/privateKey|passphrase|Encrypted private key/i.test(message)) {
      return new DbSwitchError(
        'ECONFIG',
        `ssh.privateKeyPath (env SSH_PRIVATE_KEY_PATH) / ssh.privateKey (env SSH_PRIVATE_KEY): the key cannot be used: ${message}. For an encrypted key, set SSH_PASSPHRASE.`,
        { cause: err },
      );
    }
    return new DbSwitchError(
      'ETUNNEL',
      `cannot open the SSH connection to the bastion ${this.address} (ssh.host SSH_HOST, ssh.port SSH_PORT): ${message}`,
      { cause: err },
    );
  }

  #refusal(err: Error, host: string, port: number): DbSwitchError {
    const reason = channelRefusal(err);
    const why =
      reason === 1
        ? 'administratively prohibited: its sshd forbids forwarding for this user (AllowTcpForwarding, PermitOpen)'
        : reason === 2
          ? `it could not connect to ${host}:${port}; check DB_HOST and DB_PORT as the bastion sees them`
          : reason === 4
            ? 'resource shortage (too many channels)'
            : err.message;
    return new DbSwitchError('ETUNNEL', `the bastion ${this.address} refused to forward to ${host}:${port}: ${why}`, { cause: err });
  }
}

/** Key from file or env, passphrase, agent: what ssh2 takes, read at connect time. */
function staticCredentials(ssh: DbSwitchConfig['ssh']): SshCredentials {
  const privateKey = ssh.privateKey ?? (ssh.privateKeyPath === undefined ? undefined : readFileSync(ssh.privateKeyPath));
  return {
    ...(privateKey === undefined ? {} : { privateKey }),
    ...(ssh.passphrase === undefined ? {} : { passphrase: ssh.passphrase }),
    ...(ssh.agentSocket === undefined ? {} : { agent: ssh.agentSocket }),
  };
}

function backoffMs(failures: number): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (failures - 1));
  return ceiling / 2 + (Math.random() * ceiling) / 2;
}
