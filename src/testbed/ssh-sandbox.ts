import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { locateProgram } from './locate-program.js';
import { descendants, parentOf, signalTree } from './process-tree.js';
import { runProgram } from './run-program.js';

/** A private OpenSSH sshd on a random loopback port that allows TCP forwarding: a bastion. */
export interface SshSandbox {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The account to log in as (the current user). */
  readonly user: string;
  readonly dir: string;
  /** A private key that sshd accepts (authorized_keys). */
  readonly clientKeyPath: string;
  /** The host's public key as `ssh-ed25519 AAAA...`. */
  readonly hostPublicKey: string;
  /** `SHA256:...` as `ssh-keygen -lf` prints it. */
  readonly hostFingerprint: string;
  /** The known_hosts line for this server, `[127.0.0.1]:port ssh-ed25519 AAAA...`. */
  readonly knownHostsLine: string;
  /** Authorizes `publicKey` (an OpenSSH line) until `expiresAt` (epoch ms), as EC2 Instance Connect does. */
  authorizeUntil(publicKey: string, expiresAt: number): Promise<void>;
  /** The listening sshd's process id (0 while stopped). */
  readonly pid: number;
  /** How many SSH logins sshd has accepted so far. */
  acceptedLogins(): Promise<number>;
  /** How many SSH connections are open to it right now (per-connection sshd processes). */
  openConnections(): Promise<number>;
  /** Kills sshd and every connection it serves, as a crash or a reboot of the bastion would. */
  kill(): Promise<void>;
  /** Starts sshd again on the same port, same host key. */
  start(): Promise<void>;
  /** Kills sshd and removes its directory. Safe to call twice. */
  destroy(): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;

/**
 * Starts a bastion of its own, used by the tests, the benchmarks and `dbswitch demo`.
 *
 * @example
 * const bastion = await startSshd();
 * try { ... } finally { await bastion.destroy(); }
 */
export async function startSshd(options: { hostKeyType?: 'ed25519' | 'ecdsa' | 'rsa'; allowTcpForwarding?: boolean } = {}): Promise<SshSandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'dbswitch-sshd-'));
  try {
    const sshKeygen = await locateProgram('ssh-keygen');
    const hostKeyPath = join(dir, 'host_key');
    const clientKeyPath = join(dir, 'client_key');
    const keyType = options.hostKeyType ?? 'ed25519';
    await runProgram(sshKeygen, ['-q', '-t', keyType, '-N', '', '-C', 'dbswitch sandbox host', '-f', hostKeyPath]);
    await runProgram(sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-C', 'dbswitch sandbox client', '-f', clientKeyPath]);
    const hostPublicKey = (await readFile(`${hostKeyPath}.pub`, 'utf8')).trim().split(' ').slice(0, 2).join(' ');
    const authorizedKeys = join(dir, 'authorized_keys');
    await writeFile(authorizedKeys, await readFile(`${clientKeyPath}.pub`, 'utf8'), { mode: 0o600 });

    // Keys with an expiry, served by AuthorizedKeysCommand: sshd runs /bin/sh (a path it trusts)
    // on a script in this temp dir, which prints the keys whose time has not run out.
    const ephemeralKeys = join(dir, 'ephemeral_keys');
    const keysScript = join(dir, 'ephemeral-keys.sh');
    await writeFile(
      keysScript,
      `now=$(date +%s)\n[ -f '${ephemeralKeys}' ] || exit 0\nwhile read -r expires key; do\n  [ "$expires" -gt "$now" ] && printf '%s\\n' "$key"\ndone < '${ephemeralKeys}'\nexit 0\n`,
    );

    const user = userInfo().username;
    let port = await freePort();
    const config = join(dir, 'sshd_config');
    const writeConfig = (): Promise<void> =>
      writeFile(
        config,
        [
          `Port ${port}`,
          'ListenAddress 127.0.0.1',
          `HostKey ${hostKeyPath}`,
          `PidFile ${join(dir, 'sshd.pid')}`,
          `AuthorizedKeysFile ${authorizedKeys}`,
          `AuthorizedKeysCommand /bin/sh ${keysScript}`,
          `AuthorizedKeysCommandUser ${user}`,
          'PubkeyAuthentication yes',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'PermitRootLogin prohibit-password',
          `AllowTcpForwarding ${options.allowTcpForwarding === false ? 'no' : 'yes'}`,
          'AllowAgentForwarding no',
          'X11Forwarding no',
          'UsePAM no',
          'StrictModes no',
          'MaxStartups 200',
          'MaxSessions 200',
          'LogLevel VERBOSE',
          '',
        ].join('\n'),
      );
    await writeConfig();

    const sshd = await locateProgram('sshd');
    // sshd started as root insists on its privilege separation directory.
    if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
    // sshd logs to a file, not a pipe: a pipe nobody drains (a test blocked in a sync call)
    // would stall sshd in the middle of handshakes.
    const logPath = join(dir, 'sshd.log');
    const log = (): string => {
      try {
        return readFileSync(logPath, 'utf8');
      } catch {
        // not written yet
        return '';
      }
    };
    let child: ChildProcess | undefined;

    const start = async (): Promise<void> => {
      for (let attempt = 1; ; attempt++) {
        const started = spawn(sshd, ['-D', '-E', logPath, '-f', config], { stdio: 'ignore' });
        child = started;
        try {
          await waitForPort(started, port, log);
          return;
        } catch (err) {
          signalTree(started.pid ?? 0, 'SIGKILL');
          if (!/Address already in use/.test(log()) || attempt === 3) throw err;
          port = await freePort();
          await writeConfig();
        }
      }
    };
    const kill = async (): Promise<void> => {
      const running = child;
      child = undefined;
      if (running?.pid === undefined || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      signalTree(running.pid, 'SIGKILL');
      await exited;
    };
    await start();

    const hostBlob = Buffer.from(hostPublicKey.split(' ')[1] ?? '', 'base64');
    return {
      host: '127.0.0.1',
      get port() {
        return port;
      },
      get pid() {
        return child?.pid ?? 0;
      },
      user,
      dir,
      clientKeyPath,
      hostPublicKey,
      hostFingerprint: `SHA256:${createHash('sha256').update(hostBlob).digest('base64').replace(/=+$/, '')}`,
      get knownHostsLine() {
        return `[127.0.0.1]:${port} ${hostPublicKey}`;
      },
      async authorizeUntil(publicKey, expiresAt) {
        await appendFile(ephemeralKeys, `${Math.floor(expiresAt / 1000)} ${publicKey.trim()}\n`);
      },
      acceptedLogins() {
        return Promise.resolve(log().split('\n').filter((line) => line.includes('Accepted publickey')).length);
      },
      openConnections() {
        const pid = child?.pid;
        // one privileged process per connection, a child of the listener
        return Promise.resolve(pid === undefined ? 0 : descendants(pid).filter((p) => parentOf(p) === pid).length);
      },
      kill,
      start,
      async destroy() {
        await kill();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function waitForPort(child: ChildProcess, port: number, log: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => { resolve(false); });
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`sshd did not start listening on 127.0.0.1:${port}:\n${log().split('\n').slice(-15).join('\n')}`);
}
