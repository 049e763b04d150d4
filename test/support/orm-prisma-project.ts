// A Prisma 7 project inside the consumer project (dbswitch from `npm pack`, Prisma from npm):
// its schema, `prisma generate` run offline, its TypeScript compiled; for test/orm/prisma-client.test.ts.
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { splitStatements } from '../../src/sql/split-statements.js';

const run = promisify(execFile);

/**
 * `prisma generate` needs no schema engine (the schema is read by WASM inside the CLI), but the
 * CLI downloads one from binaries.prisma.sh before any command unless PRISMA_SCHEMA_ENGINE_BINARY
 * names an existing file. Offline, that download fails with `getaddrinfo ENOTFOUND
 * binaries.prisma.sh`; a file that is never run (and fails if it ever is) lets generate go on.
 */
const NO_SCHEMA_ENGINE = '/bin/false';

/** The test harness's schema: one model per column family Prisma maps for MySQL. */
export const HARNESS_SCHEMA = `generator client {
  provider            = "prisma-client"
  output              = "../generated/prisma"
  moduleFormat        = "esm"
  importFileExtension = "js"
}

datasource db {
  provider = "mysql"
}

enum Role {
  ADMIN
  MEMBER
}

model Account {
  id        Int       @id @default(autoincrement())
  email     String    @unique @db.VarChar(191)
  name      String?   @db.VarChar(191)
  role      Role      @default(MEMBER)
  balance   Decimal   @default(0) @db.Decimal(20, 4)
  big       BigInt    @default(0)
  ratio     Float     @default(0)
  active    Boolean   @default(true)
  born      DateTime? @db.Date
  wakeUp    DateTime? @db.Time(3)
  createdAt DateTime  @default(now()) @db.DateTime(3)
  seenAt    DateTime? @db.Timestamp(6)
  meta      Json?
  avatar    Bytes?    @db.Blob
  orders    Order[]
}

model Order {
  id        Int     @id @default(autoincrement())
  label     String  @db.VarChar(191)
  accountId Int
  account   Account @relation(fields: [accountId], references: [id])

  @@index([accountId])
}
`;

/** The harness's tables, as `prisma migrate diff --from-empty` would write them for HARNESS_SCHEMA. */
export const HARNESS_DDL = `
CREATE TABLE \`Account\` (
    \`id\` INTEGER NOT NULL AUTO_INCREMENT,
    \`email\` VARCHAR(191) NOT NULL,
    \`name\` VARCHAR(191) NULL,
    \`role\` ENUM('ADMIN', 'MEMBER') NOT NULL DEFAULT 'MEMBER',
    \`balance\` DECIMAL(20, 4) NOT NULL DEFAULT 0,
    \`big\` BIGINT NOT NULL DEFAULT 0,
    \`ratio\` DOUBLE NOT NULL DEFAULT 0,
    \`active\` BOOLEAN NOT NULL DEFAULT true,
    \`born\` DATE NULL,
    \`wakeUp\` TIME(3) NULL,
    \`createdAt\` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    \`seenAt\` TIMESTAMP(6) NULL,
    \`meta\` JSON NULL,
    \`avatar\` BLOB NULL,
    UNIQUE INDEX \`Account_email_key\`(\`email\`),
    PRIMARY KEY (\`id\`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE TABLE \`Order\` (
    \`id\` INTEGER NOT NULL AUTO_INCREMENT,
    \`label\` VARCHAR(191) NOT NULL,
    \`accountId\` INTEGER NOT NULL,
    INDEX \`Order_accountId_idx\`(\`accountId\`),
    PRIMARY KEY (\`id\`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER TABLE \`Order\` ADD CONSTRAINT \`Order_accountId_fkey\` FOREIGN KEY (\`accountId\`) REFERENCES \`Account\`(\`id\`) ON DELETE RESTRICT ON UPDATE CASCADE;
`;

/** The statements of a migration script, for a test to run them itself (`prisma migrate` cannot run here). */
export function migrationStatements(script: string): string[] {
  return splitStatements(script);
}

/** Reads a file of the repository (the example's migration). */
export function readRepoFile(path: string): string {
  return readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
}

/** How the project's TypeScript is compiled. */
export type Compile = 'typecheck' | 'emit-only';

/**
 * Makes `folder` in the consumer project an ESM project with `files` (its path -> the source to
 * copy, a folder copied whole) and `schema` at prisma/schema.prisma, runs `prisma generate`
 * (offline) and compiles app.ts with the project's tsconfig.json (or a strict one):
 * `typecheck` as a user's build would, `emit-only` (tsc --noCheck) for a harness already checked
 * in this repository. Returns the compiled app's path.
 */
export async function preparePrismaProject(
  consumer: string,
  folder: string,
  options: { readonly files: Readonly<Record<string, string>>; readonly schema?: string; readonly compile: Compile },
): Promise<string> {
  const dir = join(consumer, folder);
  mkdirSync(join(dir, 'prisma'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: folder, private: true, type: 'module' }));
  for (const [target, source] of Object.entries(options.files)) {
    mkdirSync(dirname(join(dir, target)), { recursive: true });
    cpSync(source, join(dir, target), { recursive: true });
  }
  if (options.schema !== undefined) writeFileSync(join(dir, 'prisma/schema.prisma'), options.schema);
  if (!existsSync(join(dir, 'tsconfig.json'))) {
    const compilerOptions = {
      strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, skipLibCheck: false,
      module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: ['node'], rootDir: '.', outDir: 'dist',
    };
    // The generated client too: a harness may import it by a path tsc cannot follow.
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['app.ts', 'generated/**/*.ts'] }));
  }
  await prismaCli(consumer, dir, ['generate', '--schema', 'prisma/schema.prisma']);
  const noCheck = options.compile === 'emit-only' ? ['--noCheck'] : [];
  try {
    await run(process.execPath, [join(consumer, 'node_modules/typescript/bin/tsc'), '-p', dir, ...noCheck], { cwd: dir, timeout: 120_000 });
  } catch (err) {
    throw new Error(`${folder}/app.ts does not compile against the published package and its generated client:\n${String((err as { stdout?: string }).stdout ?? err)}`);
  }
  return join(dir, 'dist/app.js');
}

/** Runs the consumer's Prisma CLI in `dir`, offline (see NO_SCHEMA_ENGINE). */
export async function prismaCli(consumer: string, dir: string, args: readonly string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(process.execPath, [join(consumer, 'node_modules/prisma/build/index.js'), ...args], {
      cwd: dir,
      timeout: 60_000,
      env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: NO_SCHEMA_ENGINE, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1', ...env },
    });
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    throw new Error(`prisma ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? String(err)}`);
  }
}

/**
 * Runs `script` with node, with `env` as its whole dbswitch configuration (none of the test
 * process's own DB_* / SSH_* / AWS_*); resolves with its exit code and output. Killed after
 * `limitMs`.
 */
export function runNode(script: string, env: Record<string, string>, limitMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(DB_|SSH_|AWS_|DATABASE_URL$)/.test(name)));
  const child = spawn(process.execPath, [script], { cwd: dirname(script), env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}
