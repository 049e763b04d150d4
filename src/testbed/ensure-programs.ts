import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** scripts/install-system-deps.sh, from dist/testbed or src/testbed alike. */
const SCRIPT = fileURLToPath(new URL('../../scripts/install-system-deps.sh', import.meta.url));

/**
 * Runs the project's install script: it installs mariadb-server, openssh-server and openssl when
 * they are missing and we are root, and otherwise says what to install (and fails).
 */
export function ensureSandboxPrograms(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [SCRIPT], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve();
      else reject(new Error('the sandbox needs MariaDB, OpenSSH and openssl; see the message above'));
    });
  });
}
