import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { DbSwitchConfig } from '../../config/config.js';
import { settingLabel } from '../../config/setting-label.js';
import { createSshClient, errorLevel, sendKeepalive, type ClientChannel, type ConnectConfig, type SshClient } from '../../driver/ssh2.js';
import { DbSwitchError } from '../../errors.js';
import type { Logger } from '../../logging/create-logger.js';
import type { HostKeyCheck, HostKeyPolicy } from './host-key-policy.js';
import { forwardRefusal, sshConnectError } from './ssh-errors.js';

/** Credentials for one SSH login; `ec2-instance-connect.ts` makes a fresh one per connect. */
export type SshCredentials = Pick<ConnectConfig, 'privateKey' | 'passphrase' | 'agent'>;

/** What a successful connect found, for `dbswitch check`. */
export interface TunnelReport {
  readonly hostKey: HostKeyCheck;
  readonly handshakeMs: number;
}

/** What opening a link needs. */
export interface LinkOptions {
  readonly ssh: DbSwitchConfig['ssh'];
  readonly connectTimeoutMs: number;
  readonly hostKeys: HostKeyPolicy;
  readonly credentials: SshCredentials;
  readonly logger: Logger;
  /** Called once if the connection ends without end() (the bastion or the network dropped it). */
  readonly onDrop: (link: SshLink) => void;
}

const KEEPALIVE_MISSES_ALLOWED = 3;
const CLOSE_WAIT_MS = 1000;

/**
 * One SSH connection to the bastion, up: forwards channels, runs an unref'd keepalive, and
 * notices when it drops. ssh2's client emits 'error' more than once in some failures (a dead
 * agent socket, then the failed authentication), so one listener stays attached for the
 * client's whole life: an 'error' with no listener would crash the process.
 */
export class SshLink {
  readonly report: TunnelReport;
  readonly address: string;
  readonly #client: SshClient;
  readonly #socket: Socket;
  readonly #logger: Logger;
  readonly #channels = new Set<ClientChannel>();
  #keepalive: NodeJS.Timeout | undefined;
  /** Set once it is down: why. */
  #downReason: string | undefined;
  #ending = false;

  private constructor(client: SshClient, socket: Socket, report: TunnelReport, address: string, logger: Logger) {
    this.#client = client;
    this.#socket = socket;
    this.report = report;
    this.address = address;
    this.#logger = logger;
  }

  /** Connects, checks the host key, logs in. Rejects with EHOSTKEY, EAUTH, ECONFIG or ETUNNEL. */
  static async open(options: LinkOptions): Promise<SshLink> {
    const { ssh, connectTimeoutMs, hostKeys, credentials } = options;
    const address = `${ssh.host ?? ''}:${ssh.port}`;
    const started = performance.now();
    const client = await createSshClient();
    const socket = connect({ host: ssh.host ?? '', port: ssh.port, noDelay: true });
    let hostKey: HostKeyCheck | undefined;
    let hostKeyError: DbSwitchError | undefined;
    // Before the handshake completes an error fails it; after, it records why the link went down.
    const up: { link?: SshLink } = {};
    let failHandshake: ((err: unknown) => void) | undefined;
    // ssh2 reports an unreachable agent (SSH_AUTH_SOCK left from an old login) as an 'error' and
    // goes on to the next way to log in: the verdict comes later. Kept to explain a refusal.
    let agentError: Error | undefined;
    client.on('error', (err: Error) => {
      if (up.link !== undefined) up.link.#downReason ??= err.message;
      else if (errorLevel(err) === 'agent') agentError ??= err;
      else failHandshake?.(err);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        failHandshake = reject;
        client.once('ready', () => {
          resolve();
        });
        const preferred = hostKeys.preferredHostKeyAlgorithms();
        client.connect({
          sock: socket,
          username: ssh.user ?? '',
          ...credentials,
          readyTimeout: connectTimeoutMs,
          // dbswitch runs its own keepalive: ssh2's timer would keep the process alive.
          keepaliveInterval: 0,
          // OpenSSH's order: the key types known for this host first, so a host with several keys
          // presents the one on record.
          ...(preferred === undefined ? {} : { algorithms: { serverHostKey: preferred } }),
          hostVerifier: (key: Buffer) => {
            try {
              hostKey = hostKeys.check(key);
              return true;
            } catch (err) {
              hostKeyError = err instanceof DbSwitchError ? err : new DbSwitchError('EHOSTKEY', String(err), { cause: err });
              return false;
            }
          },
        });
      });
    } catch (err) {
      socket.destroy();
      client.end();
      if (hostKeyError !== undefined) throw hostKeyError;
      throw err instanceof DbSwitchError
        ? err
        : sshConnectError(err, { address, user: ssh.user ?? '', credentials: describeCredentials(ssh, credentials, agentError) });
    }
    if (hostKey === undefined) {
      // ssh2 always verifies when hostVerifier is set; a missing verdict means it did not.
      socket.destroy();
      throw new DbSwitchError('EHOSTKEY', `the bastion ${address}'s host key was never checked; refusing to use the connection`);
    }
    const opened = new SshLink(client, socket, { hostKey, handshakeMs: Math.round(performance.now() - started) }, address, options.logger);
    up.link = opened;
    client.once('close', () => {
      opened.#stopKeepalive();
      opened.#downReason ??= 'the bastion closed the connection';
      if (!opened.#ending) options.onDrop(opened);
    });
    opened.#startKeepalive(ssh.keepaliveIntervalMs);
    return opened;
  }

  /** False once the connection is down (dropped or ended). */
  get alive(): boolean {
    return this.#downReason === undefined;
  }

  /** Why it went down. */
  get downReason(): string | undefined {
    return this.#downReason;
  }

  /** Channels open on it now. */
  get channels(): number {
    return this.#channels.size;
  }

  /** Opens a channel to `host:port` as the bastion sees it, within `timeoutMs`. */
  forward(host: string, port: number, timeoutMs: number): Promise<ClientChannel> {
    return new Promise<ClientChannel>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        reject(
          new DbSwitchError(
            'ETUNNEL',
            `the bastion ${this.address} did not open a channel to ${host}:${port} within ${settingLabel('db.connectTimeoutMs')}; check ${settingLabel('db.host')} and ${settingLabel('db.port')} as the bastion sees them`,
          ),
        );
      }, timeoutMs);
      const onOpen = (err: Error | undefined, channel: ClientChannel | undefined): void => {
        clearTimeout(timer);
        if (channel !== undefined) this.#track(channel);
        if (settled) {
          // Too late: the caller has given up; close what arrived.
          channel?.destroy();
          return;
        }
        settled = true;
        if (err !== undefined || channel === undefined) reject(forwardRefusal(err, this.address, host, port));
        else resolve(channel);
      };
      try {
        this.#client.forwardOut('127.0.0.1', 0, host, port, (err, channel) => {
          onOpen(err, channel);
        });
      } catch (err) {
        // ssh2 throws 'Not connected' synchronously when the socket went away under us.
        onOpen(err instanceof Error ? err : new Error(String(err)), undefined);
      }
    });
  }

  /** The socket keeps the process alive (some database connection on it is in use), or not. */
  setHeld(held: boolean): void {
    if (held) this.#socket.ref();
    else this.#socket.unref();
  }

  /** Ends the SSH connection (its channels close with it), waiting a bounded time for the bastion. */
  async end(): Promise<void> {
    this.#ending = true;
    this.#downReason ??= 'closed by dbswitch';
    this.#stopKeepalive();
    const socket = this.#socket;
    if (socket.destroyed) return;
    // Ref'd on purpose: a caller awaiting end() must not see the process exit under them
    // (exit code 13) if the bastion never answers the disconnect.
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      socket.once('close', () => {
        resolve();
      });
      timer = setTimeout(() => {
        socket.destroy();
        resolve();
      }, CLOSE_WAIT_MS);
      this.#client.end();
    });
    clearTimeout(timer);
  }

  #track(channel: ClientChannel): void {
    this.#channels.add(channel);
    channel.once('close', () => {
      this.#channels.delete(channel);
    });
    // mysql2 listens for errors once it has the stream; until then, an 'error' must not crash.
    channel.on('error', (err: Error) => {
      this.#logger.debug({ err: err.message }, 'SSH channel error');
    });
  }

  #startKeepalive(intervalMs: number): void {
    if (intervalMs <= 0) return;
    let heard = true;
    let misses = 0;
    this.#socket.on('data', () => {
      heard = true;
    });
    this.#keepalive = setInterval(() => {
      misses = heard ? 0 : misses + 1;
      heard = false;
      if (misses > KEEPALIVE_MISSES_ALLOWED) {
        this.#downReason ??= `no answer to ${KEEPALIVE_MISSES_ALLOWED} keepalives (${settingLabel('ssh.keepaliveIntervalMs')} = ${intervalMs})`;
        this.#logger.warn({ bastion: this.address }, this.#downReason);
        this.#socket.destroy();
        return;
      }
      const result = sendKeepalive(this.#client);
      if (!result.sent) {
        // Not silent: without keepalives a dead bastion is only noticed when TCP gives up.
        this.#logger.warn({ bastion: this.address, why: result.why }, 'cannot send SSH keepalives; a dead bastion will be noticed late');
        this.#stopKeepalive();
      }
    }, intervalMs);
    this.#keepalive.unref();
  }

  #stopKeepalive(): void {
    clearInterval(this.#keepalive);
    this.#keepalive = undefined;
  }
}

function describeCredentials(ssh: DbSwitchConfig['ssh'], credentials: SshCredentials, agentError: Error | undefined): string {
  const ways: string[] = [];
  if (ssh.ec2InstanceId !== undefined) ways.push(`a key pushed by EC2 Instance Connect to ${ssh.ec2InstanceId}`);
  else if (credentials.privateKey !== undefined) ways.push(ssh.privateKey !== undefined ? 'the key in SSH_PRIVATE_KEY' : `the key ${ssh.privateKeyPath ?? ''}`);
  if (credentials.agent !== undefined) {
    const agent = typeof credentials.agent === 'string' ? `the agent at ${credentials.agent}` : 'the agent';
    ways.push(agentError === undefined ? agent : `${agent} (unreachable: ${agentError.message}; a socket left over from an earlier login?)`);
  }
  return ways.length === 0 ? 'no credentials' : ways.join(' and ');
}
