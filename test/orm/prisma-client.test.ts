// Prisma 7 on dbswitch as a user runs it: the published package (npm pack) and Prisma from npm in
// a project of its own, the client generated there (offline: see orm-prisma-project.ts), queries
// compiled by Prisma's WASM query compiler and run through dbswitch/prisma, over basic, ssh and
// (as root, where PAM can play RDS IAM) aws.
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IAM_SERVER_ARGS, installIamAuthentication, SANDBOX_AWS, type IamAuthentication } from '../../sandbox/iam-pam.js';
import { startMariaDb, type MariaDbSandbox } from '../../sandbox/mariadb-sandbox.js';
import { useBastion } from '../support/bastion.js';
import { consumerProject } from '../support/consumer-project.js';
import { faultEnv, sharedServer, useFaultLogin } from '../support/faults.js';
import { sandbox } from '../support/test-db.js';
import { HARNESS_DDL, HARNESS_SCHEMA, migrationStatements, preparePrismaProject, readRepoFile, runNode } from '../support/orm-prisma-project.js';

const HARNESS = fileURLToPath(new URL('../support/orm-prisma-app.ts', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../examples/prisma/', import.meta.url));
const EXAMPLE_MIGRATION = readRepoFile('examples/prisma/prisma/migrations/0_init/migration.sql');

// RDS IAM is played by a PAM login that checks each token's SigV4 signature; PAM reads its
// services from /etc/pam.d only, hence root (CI runs as root).
const asRoot = process.getuid?.() === 0;

const login = useFaultLogin('prisma', () => sharedServer);
const bastion = useBastion();

let harness = '';
let example = '';
let iamServer: MariaDbSandbox | undefined;
let iam: IamAuthentication | undefined;

/** The harness's and the example's tables (what `prisma migrate deploy` would create; it cannot run here). */
async function createTables(connect: () => Promise<mysql.Connection>, database: string): Promise<void> {
  const connection = await connect();
  try {
    await connection.query(`USE \`${database}\``);
    for (const sql of [...migrationStatements(HARNESS_DDL), ...migrationStatements(EXAMPLE_MIGRATION)]) await connection.query(sql);
  } finally {
    await connection.end();
  }
}

beforeAll(async () => {
  const consumer = await consumerProject();
  const startIam = async (): Promise<void> => {
    if (!asRoot) return;
    iamServer = await startMariaDb({ extraArgs: IAM_SERVER_ARGS });
    iam = await installIamAuthentication(iamServer, `localhost:${iamServer.port}`);
    await iam.createUser('prisma_iam', 'prisma_iam');
    const server = iamServer;
    await createTables(() => server.admin(), 'prisma_iam');
  };
  [harness, example] = await Promise.all([
    preparePrismaProject(consumer, 'prisma-harness', { files: { 'app.ts': HARNESS }, schema: HARNESS_SCHEMA, compile: 'emit-only' }),
    preparePrismaProject(consumer, 'prisma-example', {
      files: { 'app.ts': `${EXAMPLE}app.ts`, 'tsconfig.json': `${EXAMPLE}tsconfig.json`, prisma: `${EXAMPLE}prisma`, 'prisma.config.ts': `${EXAMPLE}prisma.config.ts` },
      compile: 'typecheck',
    }),
    createTables(() => mysql.createConnection({ socketPath: sandbox().socketPath, user: 'root' }), login.database),
    startIam(),
  ]);
}, 300_000);

afterAll(async () => {
  await iam?.remove();
  await iamServer?.destroy();
});

/** The env of each provider: basic and ssh to the shared server, aws to the PAM one. */
function envFor(provider: 'basic' | 'ssh' | 'aws'): Record<string, string> {
  if (provider !== 'aws') return faultEnv(provider, sharedServer, login, bastion);
  const server = iamServer!;
  return {
    DB_TYPE: 'aws',
    DB_HOST: 'localhost',
    DB_PORT: String(server.port),
    DB_USER: 'prisma_iam',
    DB_NAME: 'prisma_iam',
    DB_TLS_CA: server.tls.caPath,
    DB_LOG_LEVEL: 'silent',
    AWS_REGION: SANDBOX_AWS.region,
    AWS_ACCESS_KEY_ID: SANDBOX_AWS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: SANDBOX_AWS.secretAccessKey,
  };
}

const PROVIDERS = asRoot ? (['basic', 'ssh', 'aws'] as const) : (['basic', 'ssh'] as const);

describe.each(PROVIDERS)('Prisma Client 7 over DB_TYPE=%s (published package)', (provider) => {
  it('runs CRUD, raw queries, constraint errors and interactive transactions (committed, rolled back, connection killed)', async () => {
    const { code, stdout, stderr } = await runNode(harness, { ...envFor(provider), RUN_TAG: provider });
    const line = stdout.split('\n').find((text) => text.startsWith('RESULT '));
    expect(line, `exit ${String(code)}\n${stdout}\n${stderr}`).toBeDefined();
    expect(code).toBe(0);
    const report = JSON.parse(line!.slice('RESULT '.length)) as Record<string, unknown>;

    // Every column family comes back as it was written.
    const values = {
      email: `ada-${provider}@example.com`,
      name: 'Ada',
      role: 'ADMIN',
      balance: '12345678901234.5678',
      big: '9007199254740993n',
      ratio: 0.25,
      active: false,
      born: '2000-02-29T00:00:00.000Z',
      wakeUp: '1970-01-01T07:30:15.250Z',
      seenAt: '2024-05-06T07:08:09.123Z',
      meta: { tags: ['a', 'b'], n: 1.5, nested: { ok: true } },
      avatar: [0, 1, 254, 255],
    };
    expect(report['created']).toMatchObject({ ...values, orders: [{ label: 'first' }, { label: 'second' }] });
    expect(report['found']).toMatchObject({ ...values, orders: [{ label: 'first' }, { label: 'second' }] });
    expect(report['updated']).toEqual({ name: 'Ada Lovelace', big: '9007199254740994n' });
    expect(report['deleted']).toEqual({ count: 1 });
    expect(report['raw']).toEqual([{ one: 1, text: 'text', big: '9007199254740993n', num: '1.5', json: { k: 1 } }]);

    // The server's refusals reach the application as Prisma's codes.
    expect(report['duplicate']).toMatchObject({ code: 'P2002' });
    expect(report['foreignKey']).toMatchObject({ code: 'P2003' });

    // Committed work stays, rolled-back and killed work does not; the kill is Prisma's P1017.
    expect(report['rolledBack']).toMatchObject({ message: 'rolled back on purpose' });
    expect(report['killed']).toMatchObject({ code: 'P1017' });
    expect(report['labels']).toEqual(['first', 'committed']);
    expect(report['ratio']).toBe(0.5);

    // $disconnect() leaves the Db open; Prisma connects again; nothing stays leased; after
    // db.close() the application gets dbswitch's code (Prisma copies it onto its own error).
    expect(report['dbAfterDisconnect']).toEqual([{ ok: 1 }]);
    expect(report['countAfterReconnect']).toBe(2);
    expect(report['stats']).toMatchObject({ leased: 0, waiting: 0 });
    expect(report['afterClose']).toMatchObject({ name: 'PrismaClientKnownRequestError', code: 'ECLOSED' });
  });

  it('runs examples/prisma unchanged (compiled under strict TypeScript with its generated client)', async () => {
    const { code, stdout, stderr } = await runNode(example, envFor(provider));
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    const authors = JSON.parse(stdout.trim().split('\n').at(-1)!) as { name: string; posts: { title: string }[] }[];
    expect(authors).toMatchObject([{ name: 'Ada Lovelace' }]);
    expect(authors[0]!.posts.map((post) => post.title)).toContain('Notes on the Analytical Engine');
  });
});
