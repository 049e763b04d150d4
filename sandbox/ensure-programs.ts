import { spawn } from 'node:child_process';
import { repoPath } from './repo-path.js';

/**
 * Runs the project's install script: it installs mariadb-server, openssh-server and openssl when
 * they are missing and we are root, and otherwise says what to install (and fails).
 */
export function ensureSandboxPrograms(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [repoPath('scripts/install-system-deps.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve();
      else reject(new Error('the sandbox needs MariaDB, OpenSSH and openssl; see the message above'));
    });
  });
}
