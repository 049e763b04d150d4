// TypeORM 1.1.1 on dbswitch/mysql2, from the published package: the application of
// test/support/orm-ts-typeorm.ts and examples/typeorm, compiled in the consumer project and run
// over each provider; the TypeORM CLI's migrations through `dbswitch exec`.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { sshEnv, useBastion } from '../support/bastion.js';
import { consumerProject } from '../support/consumer-project.js';
import { compileProject, runChild, runScript, useIamServer } from '../support/orm-ts-harness.js';
import { admin, basicEnv, sandbox, useDatabase } from '../support/test-db.js';

const SCENARIO = fileURLToPath(new URL('../support/orm-ts-typeorm.ts', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../examples/typeorm/app.ts', import.meta.url));
const EXAMPLE_TSCONFIG = fileURLToPath(new URL('../../examples/typeorm/tsconfig.json', import.meta.url));

const asRoot = process.getuid?.() === 0;
const databases = {
  basic: useDatabase('orm_typeorm_basic'),
  ssh: useDatabase('orm_typeorm_ssh'),
  bound: useDatabase('orm_typeorm_bound'),
  example: useDatabase('orm_typeorm_example'),
  migrateBasic: useDatabase('orm_typeorm_migrate_basic'),
  migrateSsh: useDatabase('orm_typeorm_migrate_ssh'),
};
const bastion = useBastion();
const iam = useIamServer('iam_typeorm');

let consumer = '';
let app = '';
let example = '';
beforeAll(async () => {
  consumer = await consumerProject();
  [app, example] = await Promise.all([
    compileProject(consumer, 'orm-typeorm', [SCENARIO]),
    compileProject(consumer, 'orm-typeorm-example', [EXAMPLE], { tsconfig: EXAMPLE_TSCONFIG }),
  ]);
}, 300_000);

/** The shared server's root socket, for the scenario's KILL CONNECTION and processlist. */
const adminEnv = (): Record<string, string> => ({ ADMIN_SOCKET: sandbox().socketPath });

interface WorkResult {
  database: string;
  read: { name: string; qty: number; at: string };
  storedAt: string;
  countAfterDelete: number;
  rollback: string;
  names: string[];
  streamed: { rows: number; qtySum: number };
  afterIdleKill: number;
  inFlight: { settled: string; name: string; driverCode: string; ms: number };
  afterBusyKill: number;
  stillThere: number;
  leftOnServer: number;
  keepingAlive: string[];
}

/** What every provider must show: the same application, the same results. */
function expectWorked(run: Awaited<ReturnType<typeof runScript<WorkResult>>>, database: string): void {
  expect(run.stderr).toBe('');
  expect([run.code, run.signal]).toEqual([0, null]);
  const result = run.result!;
  expect(result.database).toBe(database);
  expect(result.read).toEqual({ name: 'first', qty: 2, at: '2024-05-06T07:08:09.000Z' });
  // TypeORM's own timezone ('Z') wrote the date, not the process's TZ (Asia/Kolkata, +05:30).
  expect(result.storedAt).toBe('2024-05-06 07:08:09');
  expect(result.countAfterDelete).toBe(0);
  expect(result.rollback).toBe('roll it back');
  expect(result.names).toEqual(['committed']);
  expect(result.streamed).toEqual({ rows: 300, qtySum: (299 * 300) / 2 });
  expect(result.afterIdleKill).toBe(301);
  expect(result.inFlight).toMatchObject({ settled: 'rejected', name: 'QueryFailedError' });
  expect(result.inFlight.ms).toBeLessThan(5000);
  expect(result.afterBusyKill).toBe(301);
  expect(result.stillThere).toBe(0);
  expect(result.leftOnServer).toBe(0);
  expect(result.keepingAlive.filter((kind) => /TCP|Timeout|Interval|Immediate/.test(kind))).toEqual([]);
}

describe('TypeORM with driver: dbswitch/mysql2 (no host, port or credentials in its options)', () => {
  it('works over basic: CRUD, transactions, streaming, killed connections; nothing left behind', async () => {
    const run = await runScript<WorkResult>(app, 'orm-ts-typeorm', { ...basicEnv(databases.basic), ...adminEnv(), TZ: 'Asia/Kolkata' });
    expectWorked(run, databases.basic);
  });

  it('works over ssh (each connection a channel through the bastion)', async () => {
    const env = sshEnv(bastion.current, bastion.dir, databases.ssh);
    const run = await runScript<WorkResult>(app, 'orm-ts-typeorm', { ...env, ...adminEnv(), TZ: 'Asia/Kolkata' });
    expectWorked(run, databases.ssh);
  });

  it.skipIf(!asRoot)('works over aws (an IAM token per new connection, over verified TLS)', async () => {
    const before = (await iam.current.received()).length;
    const run = await runScript<WorkResult>(app, 'orm-ts-typeorm', { ...iam.current.env(), TZ: 'Asia/Kolkata' });
    expectWorked(run, 'iam_typeorm');
    const tokens = (await iam.current.received()).slice(before);
    // One token per physical connection: the first, and one for each connection killed under it.
    expect(tokens.length).toBeGreaterThanOrEqual(3);
    expect(tokens.every((token) => token.ok)).toBe(true);
  });

  it('mysql2Driver(db) shares the Db pool between sessions and TypeORM, and leaves the Db open', async () => {
    const run = await runScript(app, 'orm-ts-typeorm', { ...basicEnv(databases.bound, { DB_POOL_MAX: '2' }), ...adminEnv(), SCENARIO: 'bound' });
    expect(run.stderr).toBe('');
    expect(run.result).toMatchObject({ ran: 16, afterDestroy: [{ one: 1 }], leftOnServer: 0 });
    expect(run.result?.['distinctConnections']).toBeLessThanOrEqual(2);
    expect(run.result?.['serverConnections']).toBeLessThanOrEqual(3);
    expect([run.code, run.signal]).toEqual([0, null]);
  });

  it('refuses replication and connection-level options with EUSAGE, naming them', async () => {
    const run = await runScript(app, 'orm-ts-typeorm', { ...basicEnv(databases.basic), ...adminEnv(), SCENARIO: 'refusals' });
    expect(run.result).toMatchObject({
      replication: { dbswitch: true, code: 'EUSAGE', message: expect.stringContaining('replication is not supported through dbswitch') as unknown },
      multipleStatements: { dbswitch: true, code: 'EUSAGE', message: expect.stringContaining('multipleStatements') as unknown },
      leftOnServer: 0,
    });
    expect([run.code, run.signal]).toEqual([0, null]);
  });

  it('examples/typeorm compiles against the published package and runs as written', async () => {
    const run = await runChild(example, process.execPath, [join(example, 'dist/app.js')], basicEnv(databases.example));
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('rolled back: changed my mind');
    expect(run.result).toMatchObject({ notes: 1, latest: expect.stringMatching(/^written at /) as unknown });
    expect([run.code, run.signal]).toEqual([0, null]);
  });
});

describe('the TypeORM CLI through `dbswitch exec` (DATABASE_URL)', () => {
  /** A data source as migration set-ups write it (plain mysql2 and a URL), and one migration. */
  function migrationProject(): string {
    const dir = join(consumer, 'orm-typeorm-migrations');
    mkdirSync(join(dir, 'migrations'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'orm-typeorm-migrations', private: true, type: 'module' }));
    writeFileSync(
      join(dir, 'data-source.js'),
      `import { DataSource } from 'typeorm';
export default new DataSource({ type: 'mysql', url: process.env.DATABASE_URL, migrations: [new URL('./migrations/*.js', import.meta.url).pathname] });
`,
    );
    writeFileSync(
      join(dir, 'migrations', '1700000000000-CreateNote.js'),
      `export class CreateNote1700000000000 {
  name = 'CreateNote1700000000000';
  async up(queryRunner) { await queryRunner.query('CREATE TABLE note (id INT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(200) NOT NULL)'); }
  async down(queryRunner) { await queryRunner.query('DROP TABLE note'); }
}
`,
    );
    return dir;
  }

  async function migrate(env: Record<string, string>, database: string): Promise<void> {
    const dir = migrationProject();
    const bin = (name: string): string => join(consumer, 'node_modules/.bin', name);
    const run = await runChild(dir, bin('dbswitch'), ['exec', '--', bin('typeorm'), 'migration:run', '-d', 'data-source.js'], env, 60_000);
    expect(run.stdout + run.stderr).toContain('CreateNote1700000000000 has been executed successfully');
    expect([run.code, run.signal]).toEqual([0, null]);
    const tables = await admin<{ TABLE_NAME: string }[]>('SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME', [database]);
    expect(tables.map((table) => table.TABLE_NAME)).toEqual(['migrations', 'note']);
    const ran = await admin<{ name: string }[]>(`SELECT name FROM \`${database}\`.migrations`);
    expect(ran).toEqual([{ name: 'CreateNote1700000000000' }]);
  }

  it('runs the migrations against the configured database over basic', async () => {
    await migrate(basicEnv(databases.migrateBasic), databases.migrateBasic);
  }, 60_000);

  it('runs the migrations through the bastion over ssh', async () => {
    await migrate(sshEnv(bastion.current, bastion.dir, databases.migrateSsh), databases.migrateSsh);
  }, 60_000);
});
