import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { locateProgram } from './locate-program.js';
import { descendants, parentOf, signalTree } from './process-tree.js';
import { runProgram } from './run-program.js';

/** A TCP socket held by the bastion's sshd (the listener or a connection process), from /proc. */
export interface BastionSocket {
  /** The kernel's name for the state: ESTABLISHED, CLOSE_WAIT, LISTEN, ... */
  readonly state: string;
  readonly localPort: number;
  readonly remotePort: number;
  /** The sshd process that holds it. */
  readonly pid: number;
}

/** A private OpenSSH sshd on a random loopback port that allows TCP forwarding: a bastion. */
export interface SshSandbox {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The account to log in as (the current user). */
  readonly user: string;
  readonly dir: string;
  /** A private key that sshd accepts (authorized_keys). */
  readonly clientKeyPath: string;
  /** The host's (first) public key as `ssh-ed25519 AAAA...`. */
  readonly hostPublicKey: string;
  /** Every host public key sshd holds, one per `hostKeyTypes` entry, in that order. */
  readonly hostPublicKeys: readonly string[];
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
  /**
   * Stops sshd and every connection it serves with SIGSTOP, as a frozen VM or a dead network
   * would look from outside: connections stay open, nothing answers. Undone by resume().
   */
  pause(): void;
  /** Lets a paused sshd and its connections run again (SIGCONT). */
  resume(): void;
  /** The TCP sockets sshd and its connection processes hold now (Linux, from /proc). */
  sockets(): BastionSocket[];
  /**
   * Sockets of sshd in CLOSE-WAIT: the peer (the database, for a forwarded channel) closed its
   * side and sshd keeps its own open, which is what a half-closed channel leaves on a bastion.
   */
  closeWaitSockets(): number;
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
export async function startSshd(
  options: {
    hostKeyType?: 'ed25519' | 'ecdsa' | 'rsa';
    /** Several host keys (a bastion as cloud images set them up); overrides `hostKeyType`; the first is `hostPublicKey`. */
    hostKeyTypes?: readonly ('ed25519' | 'ecdsa' | 'rsa')[];
    allowTcpForwarding?: boolean;
  } = {},
): Promise<SshSandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'dbswitch-sshd-'));
  try {
    const sshKeygen = await locateProgram('ssh-keygen');
    const clientKeyPath = join(dir, 'client_key');
    const keyTypes = options.hostKeyTypes ?? [options.hostKeyType ?? 'ed25519'];
    const hostKeyPaths = keyTypes.map((type, index) => join(dir, index === 0 ? 'host_key' : `host_key_${String(index)}_${type}`));
    const hostPublicKeys: string[] = [];
    for (const [index, type] of keyTypes.entries()) {
      const path = hostKeyPaths[index] ?? '';
      await runProgram(sshKeygen, ['-q', '-t', type, '-N', '', '-C', 'dbswitch sandbox host', '-f', path]);
      hostPublicKeys.push((await readFile(`${path}.pub`, 'utf8')).trim().split(' ').slice(0, 2).join(' '));
    }
    await runProgram(sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-C', 'dbswitch sandbox client', '-f', clientKeyPath]);
    const hostPublicKey = hostPublicKeys[0] ?? '';
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
          ...hostKeyPaths.map((path) => `HostKey ${path}`),
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
      hostPublicKeys,
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
      pause() {
        if (child?.pid !== undefined) signalTree(child.pid, 'SIGSTOP');
      },
      resume() {
        if (child?.pid !== undefined) signalTree(child.pid, 'SIGCONT');
      },
      sockets() {
        return child?.pid === undefined ? [] : socketsOf([child.pid, ...descendants(child.pid)]);
      },
      closeWaitSockets() {
        return child?.pid === undefined ? 0 : socketsOf([child.pid, ...descendants(child.pid)]).filter((s) => s.state === 'CLOSE_WAIT').length;
      },
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

/** The kernel's TCP states by their number in /proc/net/tcp. */
const TCP_STATES: Readonly<Record<number, string>> = {
  1: 'ESTABLISHED', 2: 'SYN_SENT', 3: 'SYN_RECV', 4: 'FIN_WAIT1', 5: 'FIN_WAIT2', 6: 'TIME_WAIT',
  7: 'CLOSE', 8: 'CLOSE_WAIT', 9: 'LAST_ACK', 10: 'LISTEN', 11: 'CLOSING',
};

/**
 * The TCP sockets the processes `pids` hold: their socket inodes from /proc/<pid>/fd, matched
 * against /proc/net/tcp and tcp6. What `ss -tanp` shows, without needing iproute2.
 */
function socketsOf(pids: readonly number[]): BastionSocket[] {
  const owner = new Map<string, number>();
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      // the process ended meanwhile: it holds nothing
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        // closed meanwhile
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined) owner.set(inode, pid);
    }
  }
  const found: BastionSocket[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      // no IPv6 on this machine
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      const [, local, remote, state, , , , , , inode] = fields;
      if (local === undefined || remote === undefined || state === undefined || inode === undefined) continue;
      const pid = owner.get(inode);
      if (pid === undefined) continue;
      found.push({
        state: TCP_STATES[parseInt(state, 16)] ?? state,
        localPort: parseInt(local.split(':')[1] ?? '0', 16),
        remotePort: parseInt(remote.split(':')[1] ?? '0', 16),
        pid,
      });
    }
  }
  return found;
}
