import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReceivedToken } from './iam-token-checker.js';
import { repoPath } from './repo-path.js';
import type { MariaDbSandbox } from './mariadb-sandbox.js';

export type { ReceivedToken };

/** Fake credentials without a session token: pam_exec passes at most 511 bytes of password. */
export const SANDBOX_AWS = {
  region: 'eu-west-1',
  accessKeyId: 'AKIADBSWITCHSANDBOX1',
  secretAccessKey: 'dbswitch-sandbox-secret-key-not-an-aws-secret',
} as const;

/** MariaDB options that make PAM logins ask the client for a cleartext password. */
export const IAM_SERVER_ARGS = ['--plugin-load-add=auth_pam_v1', '--pam-use-cleartext-plugin'] as const;

/** The checker as `npm run build` compiles it (into build/, never into the package). */
const CHECKER = repoPath('build/sandbox/iam-token-checker.js');

/** The sandbox's stand-in for RDS IAM authentication. */
export interface IamAuthentication {
  /** Creates a user that logs in with an IAM token signed for `host` (host:port). */
  createUser(user: string, database: string): Promise<void>;
  /** Every login the checker has seen, oldest first. */
  received(): Promise<ReceivedToken[]>;
  /** Removes the PAM service file. */
  remove(): Promise<void>;
}

/**
 * Makes `sandbox` (started with IAM_SERVER_ARGS) verify RDS IAM tokens signed for `host` with
 * SANDBOX_AWS: a PAM service in /etc/pam.d (PAM reads no other folder, hence root) whose pam_exec
 * runs the checker. remove() deletes the service file.
 */
export async function installIamAuthentication(sandbox: MariaDbSandbox, host: string): Promise<IamAuthentication> {
  if (process.getuid?.() !== 0) throw new Error('the IAM sandbox writes a PAM service to /etc/pam.d and needs root');
  const service = `dbswitch-iam-${randomBytes(4).toString('hex')}`;
  const servicePath = join('/etc/pam.d', service);
  const logPath = join(sandbox.dir, 'iam-received.log');
  const settingsPath = join(sandbox.dir, 'iam-checker.json');
  await writeFile(settingsPath, JSON.stringify({ host, ...SANDBOX_AWS, logPath }));
  await writeFile(logPath, '');
  await writeFile(
    servicePath,
    `auth required pam_exec.so expose_authtok quiet ${process.execPath} ${CHECKER} ${settingsPath}\naccount required pam_permit.so\n`,
  );
  return {
    async createUser(user, database) {
      await sandbox.sql(
        `CREATE DATABASE IF NOT EXISTS \`${database}\``,
        `CREATE USER '${user}'@'%' IDENTIFIED VIA pam USING '${service}'`,
        `GRANT ALL ON \`${database}\`.* TO '${user}'@'%'`,
        `GRANT PROCESS ON *.* TO '${user}'@'%'`,
      );
    },
    async received() {
      const text = await readFile(logPath, 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as ReceivedToken);
    },
    async remove() {
      await rm(servicePath, { force: true });
    },
  };
}
