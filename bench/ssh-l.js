// @ts-check
// OpenSSH's own port forward, the baseline users reach for: `ssh -N -L port:db bastion`.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from '#sandbox';

/** OpenSSH's `ssh -N -L port:db` to the bastion; resolves once the local port accepts. */
export async function openSshL(
  /** @type {{ host: string; port: number }} */ database,
  /** @type {Pick<import('#sandbox').SshSandbox, 'host' | 'port' | 'user' | 'clientKeyPath'>} */ bastion,
  /** @type {string} */ knownHosts,
) {
  const port = await freePort();
  const child = spawn(
    'ssh',
    ['-N', '-L', `127.0.0.1:${port}:${database.host}:${database.port}`, '-p', String(bastion.port), '-i', bastion.clientKeyPath,
      '-o', 'BatchMode=yes', '-o', 'ExitOnForwardFailure=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes',
      `${bastion.user}@${bastion.host}`],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    const open = await /** @type {Promise<boolean>} */ (
      new Promise((resolve) => {
        const socket = connect({ host: '127.0.0.1', port }, () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => {
          resolve(false);
        });
      })
    );
    if (open) break;
    if (Date.now() > deadline) throw new Error('ssh -L did not open its port');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    port,
    close: () => {
      child.kill();
    },
  };
}

