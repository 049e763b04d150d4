import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startSshd, type SshSandbox } from '../../sandbox/ssh-sandbox.js';
import { basicEnv } from './test-db.js';

/** A bastion (private sshd) for one test file, and a folder for its known_hosts files. */
export function useBastion(options: Parameters<typeof startSshd>[0] = {}): { readonly current: SshSandbox; readonly dir: string } {
  const state: { current?: SshSandbox } = {};
  const dir = mkdtempSync(join(tmpdir(), 'dbswitch-ssh-test-'));
  beforeAll(async () => {
    state.current = await startSshd(options);
  });
  afterAll(async () => {
    await state.current?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get current() {
      if (state.current === undefined) throw new Error('the bastion is not started yet');
      return state.current;
    },
    dir,
  };
}

let files = 0;

/** A known_hosts file with these lines. */
export function knownHostsFile(dir: string, ...lines: string[]): string {
  const path = join(dir, `known_hosts_${++files}`);
  writeFileSync(path, lines.map((line) => `${line}\n`).join(''));
  return path;
}

/** The env for DB_TYPE=ssh through `bastion` to the shared MariaDB, trusting the bastion's key. */
export function sshEnv(bastion: SshSandbox, dir: string, database: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ...basicEnv(database),
    DB_TYPE: 'ssh',
    SSH_HOST: bastion.host,
    SSH_PORT: String(bastion.port),
    SSH_USER: bastion.user,
    SSH_PRIVATE_KEY_PATH: bastion.clientKeyPath,
    SSH_KNOWN_HOSTS: knownHostsFile(dir, bastion.knownHostsLine),
    ...overrides,
  };
}
