import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inject } from 'vitest';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The packages a consumer project installs beside dbswitch, at the versions known to run here.
 * One project serves every test that needs the published package, so it is installed once.
 */
export const CONSUMER_PACKAGES = [
  'typescript@5.9.3',
  '@types/node@20.19.43',
  // The frameworks of the integrations (issue 9)
  'express@5.3.0',
  '@types/express@5.0.4',
  '@nestjs/common@11.2.10',
  '@nestjs/core@11.2.10',
  '@nestjs/platform-express@11.2.10',
  'rxjs@7.8.2',
  'reflect-metadata@0.2.2',
  '@types/aws-lambda@8.10.164',
  // The ORMs and query builders (issue 10)
  'kysely@0.28.18',
  'drizzle-orm@0.45.4',
  'knex@3.3.0',
  'typeorm@1.1.1',
  'sequelize@6.37.8',
  // Prisma 7: the CLI (prisma generate), the client, and the adapter contract dbswitch/prisma implements
  'prisma@7.10.0',
  '@prisma/client@7.10.0',
  '@prisma/driver-adapter-utils@7.10.0',
] as const;

/**
 * A project outside this repository with dbswitch installed from `npm pack` (what users get: the
 * files list, the exports map, the types) and CONSUMER_PACKAGES. Made once per test run, shared
 * by every test file (a lock keeps parallel workers from installing twice); the global setup
 * removes it.
 */
export async function consumerProject(): Promise<string> {
  const dir = inject('consumerDir');
  const ready = join(dir, '.ready');
  const lock = join(dir, '.lock');
  mkdirSync(dir, { recursive: true });
  const deadline = Date.now() + 240_000;
  for (;;) {
    if (existsSync(ready)) return dir;
    let fd: number | undefined;
    try {
      fd = openSync(lock, 'wx');
    } catch {
      // Another worker is installing: wait for it.
      if (Date.now() > deadline) throw new Error(`the consumer project in ${dir} was not ready in time`);
      await new Promise((resolve) => setTimeout(resolve, 250));
      continue;
    }
    try {
      await install(dir);
      writeFileSync(ready, '');
      return dir;
    } finally {
      closeSync(fd);
      rmSync(lock, { force: true });
    }
  }
}

async function install(dir: string): Promise<void> {
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'dbswitch-consumer', version: '1.0.0', private: true }));
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: REPO });
  const [packed] = JSON.parse(stdout) as [{ filename: string }];
  // --prefer-offline: the repository's own install filled npm's cache with the same versions.
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(dir, packed.filename), ...CONSUMER_PACKAGES], {
    cwd: dir,
    maxBuffer: 16 * 1024 * 1024,
  });
}
