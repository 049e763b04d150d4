// Sequelize 6.37.8 on dbswitch/mysql2, from the published package: the application of
// test/support/orm-ts-sequelize.ts and examples/sequelize, compiled in the consumer project and
// run over each provider. Sequelize keeps its own pool of real mysql2 connections, made by
// dbswitch/mysql2's createConnection over dbswitch's route and login.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { sshEnv, useBastion } from '../support/bastion.js';
import { consumerProject } from '../support/consumer-project.js';
import { compileProject, runChild, runScript, useIamServer, type ChildRun } from '../support/orm-ts-harness.js';
import { basicEnv, sandbox, useDatabase } from '../support/test-db.js';

const SCENARIO = fileURLToPath(new URL('../support/orm-ts-sequelize.ts', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../examples/sequelize/app.ts', import.meta.url));
const EXAMPLE_TSCONFIG = fileURLToPath(new URL('../../examples/sequelize/tsconfig.json', import.meta.url));

const asRoot = process.getuid?.() === 0;
const databases = {
  basic: useDatabase('orm_sequelize_basic'),
  ssh: useDatabase('orm_sequelize_ssh'),
  tls: useDatabase('orm_sequelize_tls'),
  example: useDatabase('orm_sequelize_example'),
};
const bastion = useBastion();
const iam = useIamServer('iam_sequelize');

let app = '';
let example = '';
beforeAll(async () => {
  const consumer = await consumerProject();
  [app, example] = await Promise.all([
    compileProject(consumer, 'orm-sequelize', [SCENARIO]),
    compileProject(consumer, 'orm-sequelize-example', [EXAMPLE], { tsconfig: EXAMPLE_TSCONFIG }),
  ]);
}, 300_000);

const adminEnv = (): Record<string, string> => ({ ADMIN_SOCKET: sandbox().socketPath });

interface WorkResult {
  config: { host: string; port: number };
  where: { db: string; tls: string; init: string | null };
  read: { name: string; qty: number };
  countAfterDelete: number;
  rollback: string;
  names: string[];
  bound: { n: number; total: string };
  afterIdleKill: number;
  inFlight: { settled: string; name: string; ms: number };
  afterBusyKill: number;
  stillThere: number;
  leftOnServer: number;
  keepingAlive: string[];
}

/** Sequelize's own notice when it could not roll back on a killed connection, and nothing else. */
function unexpectedStderr(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line !== '' && !/^Rolling back transaction \S+ failed with error .*killing its connection/.test(line));
}

function expectWorked(run: ChildRun<WorkResult>, database: string): void {
  expect(unexpectedStderr(run.stderr)).toEqual([]);
  expect([run.code, run.signal]).toEqual([0, null]);
  const result = run.result!;
  // Sequelize filled in localhost:3306 itself; nothing listens there, and that redirected nothing.
  expect(result.config).toEqual({ host: 'localhost', port: 3306 });
  expect(result.where.db).toBe(database);
  expect(result.read).toMatchObject({ name: 'first', qty: 2 });
  expect(result.countAfterDelete).toBe(0);
  expect(result.rollback).toBe('roll it back');
  expect(result.names).toEqual(['committed']);
  expect(result.bound).toEqual({ n: 100, total: '4950' });
  expect(result.afterIdleKill).toBe(101);
  expect(result.inFlight).toMatchObject({ settled: 'rejected', name: 'SequelizeDatabaseError' });
  expect(result.inFlight.ms).toBeLessThan(5000);
  expect(result.afterBusyKill).toBe(101);
  expect(result.stillThere).toBe(0);
  expect(result.leftOnServer).toBe(0);
  expect(result.keepingAlive.filter((kind) => /TCP|Timeout|Interval|Immediate/.test(kind))).toEqual([]);
}

describe('Sequelize with dialectModule: dbswitch/mysql2 (no host, port or credentials in its options)', () => {
  it('works over basic: CRUD, transactions, bound parameters, killed connections; DB_INIT_SQL ran first; nothing left behind', async () => {
    const run = await runScript<WorkResult>(app, 'orm-ts-sequelize', { ...basicEnv(databases.basic, { DB_INIT_SQL: "SET @dbswitch_init = 'ran'" }), ...adminEnv() });
    expectWorked(run, databases.basic);
    expect(run.result?.where.init).toBe('ran');
  });

  it('works over ssh: its default host localhost is never where it goes; a connection killed by the server closes its channel (regression: a half-open channel hung the next call)', async () => {
    const env = sshEnv(bastion.current, bastion.dir, databases.ssh);
    expectWorked(await runScript<WorkResult>(app, 'orm-ts-sequelize', { ...env, ...adminEnv() }), databases.ssh);
  });

  it.skipIf(!asRoot)('works over aws: each connection of its pool logs in with an IAM token over verified TLS', async () => {
    const before = (await iam.current.received()).length;
    const run = await runScript<WorkResult>(app, 'orm-ts-sequelize', iam.current.env());
    expectWorked(run, 'iam_sequelize');
    expect(run.result?.where.tls).toMatch(/^TLSv1\.[23]$/);
    const tokens = (await iam.current.received()).slice(before);
    expect(tokens.length).toBeGreaterThanOrEqual(3);
    expect(tokens.every((token) => token.ok)).toBe(true);
  });

  it('verifies TLS as DB_TLS says: verify-full checks the name, also for an IP address (regression: Node falls back to "localhost")', async () => {
    const tls = { DB_TLS: 'verify-full', DB_TLS_CA: sandbox().caPath, SCENARIO: 'login' };
    // The sandbox's certificate names localhost only. One after the other: each script counts the
    // connections left in the database when it is done, and would count the others' as well.
    const byName = await runScript(app, 'orm-ts-sequelize', { ...basicEnv(databases.tls, { ...tls, DB_HOST: 'localhost' }), ...adminEnv() });
    const byIp = await runScript(app, 'orm-ts-sequelize', { ...basicEnv(databases.tls, tls), ...adminEnv() });
    const overSsh = await runScript(app, 'orm-ts-sequelize', { ...sshEnv(bastion.current, bastion.dir, databases.tls, { ...tls, DB_HOST: 'localhost' }), ...adminEnv() });
    expect(byName.result).toMatchObject({ where: { db: databases.tls, tls: expect.stringMatching(/^TLSv1\.[23]$/) as unknown } });
    expect(overSsh.result).toMatchObject({ where: { db: databases.tls, tls: expect.stringMatching(/^TLSv1\.[23]$/) as unknown } });
    expect(byIp.result).toMatchObject({
      failed: { name: 'SequelizeConnectionError', parentCode: 'HANDSHAKE_SSL_ERROR', message: expect.stringContaining("IP: 127.0.0.1 is not in the cert's list") as unknown },
      leftOnServer: 0,
    });
    for (const run of [byName, byIp, overSsh]) expect([run.code, run.signal]).toEqual([0, null]);
  });

  it('a DB_INIT_SQL the server refuses fails the connection with ECONFIG naming it', async () => {
    const run = await runScript(app, 'orm-ts-sequelize', { ...basicEnv(databases.tls, { DB_INIT_SQL: 'SET @@no_such_variable = 1', SCENARIO: 'login' }), ...adminEnv() });
    expect(run.result).toMatchObject({
      failed: { name: 'SequelizeConnectionError', parentCode: 'ECONFIG', message: expect.stringContaining('db.initSql (DB_INIT_SQL): statement 1 of 1 failed') as unknown },
      leftOnServer: 0,
    });
    expect([run.code, run.signal]).toEqual([0, null]);
  });

  it('examples/sequelize compiles against the published package and runs as written', async () => {
    const run = await runChild(example, process.execPath, [join(example, 'dist/app.js')], basicEnv(databases.example));
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('rolled back: changed my mind');
    expect(run.result).toMatchObject({ notes: 1, latest: expect.stringMatching(/^written at /) as unknown });
    expect([run.code, run.signal]).toEqual([0, null]);
  });
});
