import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startMariaDb, type MariaDbSandbox } from '../../sandbox/mariadb-sandbox.js';

/** What the test files learn about the shared sandbox. */
export interface SandboxInfo {
  readonly port: number;
  readonly socketPath: string;
  readonly caPath: string;
  readonly dir: string;
  readonly user: string;
  readonly password: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    mariadb: SandboxInfo;
    /** Where test/support/consumer-project.ts installs the packed package (made on first use). */
    consumerDir: string;
  }
}

let sandbox: MariaDbSandbox | undefined;
const consumerDir = join(tmpdir(), `dbswitch-consumer-${process.pid}-${Date.now()}`);

/** One private MariaDB for the whole run; files that restart or reconfigure a server start their own. */
export async function setup(project: TestProject): Promise<void> {
  sandbox = await startMariaDb();
  const user = 'app';
  const password = 'app-password-not-secret';
  await sandbox.createUser(user, password, 'app');
  // Each test file works in a database of its own, app_<name>.
  await sandbox.sql(`GRANT ALL ON \`app\\_%\`.* TO '${user}'@'%'`, `GRANT ALL ON \`app\\_%\`.* TO '${user}'@'localhost'`);
  project.provide('consumerDir', consumerDir);
  project.provide('mariadb', {
    port: sandbox.port,
    socketPath: sandbox.socketPath,
    caPath: sandbox.tls.caPath,
    dir: sandbox.dir,
    user,
    password,
  });
}

export async function teardown(): Promise<void> {
  await sandbox?.destroy();
  rmSync(consumerDir, { recursive: true, force: true });
}
