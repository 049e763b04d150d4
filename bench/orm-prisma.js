// @ts-check
// Prisma 7: Prisma Client on dbswitch/prisma against Prisma on its own official MariaDB adapter
// (@prisma/adapter-mariadb and the mariadb driver), same server, same pool size; and through a
// bastion: dbswitch's ssh provider against the official adapter through OpenSSH `ssh -L`.
// The client is generated for the run (offline: PRISMA_SCHEMA_ENGINE_BINARY, see
// test/support/orm-prisma-project.ts) into node_modules/.cache, bundled by esbuild.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PrismaMariaDb } from '@prisma/adapter-mariadb';
import { build } from 'esbuild';
import { createDb } from '../dist/index.js';
import { PrismaDbSwitch } from 'dbswitch/prisma';
import { compare, header, table, throughput } from './measure.js';
import { openSshL } from './ssh-l.js';
import { sshEnvFor } from './ssh.js';

const CONNECTIONS = 16;
const WORK = fileURLToPath(new URL('../node_modules/.cache/dbswitch-bench-prisma/', import.meta.url));

const SCHEMA = `generator client {
  provider            = "prisma-client"
  output              = "./generated"
  moduleFormat        = "esm"
  importFileExtension = "js"
}

datasource db {
  provider = "mysql"
}

model big {
  id      Int    @id
  payload String @db.VarChar(1000)
}
`;

/**
 * @typedef {{
 *   $queryRaw(strings: TemplateStringsArray, ...values: unknown[]): Promise<unknown>;
 *   big: { findFirst(args: object): Promise<unknown> };
 *   $disconnect(): Promise<void>;
 * }} Client
 * @typedef {new (options: { adapter: import('@prisma/driver-adapter-utils').SqlDriverAdapterFactory }) => Client} ClientClass
 */

/** Generates the client for SCHEMA and bundles it into one module; returns its PrismaClient. */
async function generatedClient() {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  writeFileSync(`${WORK}schema.prisma`, SCHEMA);
  execFileSync(process.execPath, [fileURLToPath(new URL('../node_modules/prisma/build/index.js', import.meta.url)), 'generate', '--schema', `${WORK}schema.prisma`], {
    cwd: WORK,
    stdio: 'ignore',
    // generate reads the schema with WASM; without this the CLI first downloads a schema engine.
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: '/bin/false', CHECKPOINT_DISABLE: '1' },
  });
  await build({
    entryPoints: [`${WORK}generated/client.ts`],
    outfile: `${WORK}client.mjs`,
    bundle: true,
    format: 'esm',
    platform: 'node',
    external: ['@prisma/client', '@prisma/client/*'],
    logLevel: 'warning',
  });
  /** @type {unknown} */
  const loaded = await import(`${WORK}client.mjs`);
  return /** @type {{ PrismaClient: ClientClass }} */ (loaded).PrismaClient;
}

/**
 * A runner for `compare`: `SELECT 1` as Prisma's `$queryRaw`, `findFirst` as a model query.
 * @param {Client} prisma
 * @returns {import('./measure.js').Runner}
 */
function runner(prisma) {
  return (sql) => (sql === 'findFirst' ? prisma.big.findFirst({ where: { id: 1 }, select: { id: true } }) : prisma.$queryRaw`SELECT 1`);
}

const MEASUREMENTS = {
  '$queryRaw SELECT 1, concurrency 16 (ops/s)': (/** @type {import('./measure.js').Runner} */ run) => throughput(run, 16),
  'findFirst by id, concurrency 16 (ops/s)': (/** @type {import('./measure.js').Runner} */ run) => throughput(() => run('findFirst'), 16),
};

/**
 * @param {{ host: string; port: number; user: string; password: string; database: string }} database
 * @param {import('#sandbox').SshSandbox} bastion
 */
export async function benchPrisma(database, bastion) {
  const PrismaClient = await generatedClient();
  const official = (/** @type {number} */ port) =>
    new PrismaClient({ adapter: new PrismaMariaDb({ ...database, port, connectionLimit: CONNECTIONS }) });

  // basic: the same server, 16 connections each
  const db = await createDb({
    env: {
      DB_HOST: database.host, DB_PORT: String(database.port), DB_USER: database.user, DB_PASSWORD: database.password,
      DB_NAME: database.database, DB_POOL_MAX: String(CONNECTIONS), DB_LOG_LEVEL: 'warn',
    },
    cwd: bastion.dir,
  });
  const onDbSwitch = new PrismaClient({ adapter: new PrismaDbSwitch(db) });
  const onMariaDb = official(database.port);
  try {
    const measured = await compare({ dbswitch: runner(onDbSwitch), '@prisma/adapter-mariadb': runner(onMariaDb) }, MEASUREMENTS);
    console.log(`\n## Prisma 7, basic\n\n${header()}\n\n${table(measured, ['dbswitch', '@prisma/adapter-mariadb'])}`);
  } finally {
    await onDbSwitch.$disconnect();
    await onMariaDb.$disconnect();
    await db.close();
  }

  // ssh: dbswitch's tunnel against the official adapter through OpenSSH's port forward
  const { env, knownHosts } = sshEnvFor(database, bastion, CONNECTIONS);
  const sshDb = await createDb({ env, cwd: bastion.dir });
  const forward = await openSshL(database, bastion, knownHosts);
  const overSsh = new PrismaClient({ adapter: new PrismaDbSwitch(sshDb) });
  const overSshL = official(forward.port);
  const direct = official(database.port);
  try {
    const measured = await compare(
      { 'dbswitch ssh': runner(overSsh), 'adapter-mariadb via ssh -L': runner(overSshL), 'adapter-mariadb direct': runner(direct) },
      MEASUREMENTS,
    );
    console.log(`\n## Prisma 7, ssh\n\n${header()}\n\n${table(measured, ['dbswitch ssh', 'adapter-mariadb via ssh -L', 'adapter-mariadb direct'])}`);
  } finally {
    await overSsh.$disconnect();
    await overSshL.$disconnect();
    await direct.$disconnect();
    await sshDb.close();
    forward.close();
  }
}
