// Knex 3 on dbswitch as a user runs it: `knex(knexConfig(db))` from dbswitch/knex (knex's mysql2
// dialect on dbswitch's pool, no tarn pool), compiled in a project of its own against the
// published package, over basic, ssh and aws (RDS IAM); and knex's migration CLI under `dbswitch
// exec`. The scenario is test/support/orm-kdk-child.ts's. The providers run side by side, each as
// a login of its own.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBastion } from '../support/bastion.js';
import { sharedServer } from '../support/faults.js';
import { consumerProject } from '../support/consumer-project.js';
import type { ScenarioReport, SetupReport } from '../support/orm-kdk-child.js';
import {
  AS_ROOT,
  compileExample,
  compileScripts,
  EXAMPLE_OUTPUT,
  expectScenario,
  expectSetupSurvivesReset,
  ORM_PROVIDERS,
  ormEnv,
  runScript,
  SCENARIO_POOL_MAX,
  useIamServer,
  useLogins,
} from '../support/orm-kdk-harness.js';

const SCRIPT = fileURLToPath(new URL('../support/orm-kdk-knex-script.ts', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../examples/knex', import.meta.url));

const logins = useLogins('kdk_knex');
const bastion = useBastion();
const iam = useIamServer();

let consumer = '';
let dir = '';
let example = '';
beforeAll(async () => {
  consumer = await consumerProject();
  [dir, example] = await Promise.all([
    compileScripts(consumer, 'orm-kdk-knex', [SCRIPT]),
    compileExample(consumer, 'orm-kdk-knex-example', EXAMPLE),
    iam.start(),
  ]);
}, 300_000);

describe.concurrent('Knex on knexConfig(db)', () => {
  it.for(ORM_PROVIDERS)(
    'over %s: CRUD, committed and rolled-back transactions, .stream() (also left early), connections killed idle and mid-call, nothing leaked; pool.afterCreate survives a reset',
    { timeout: 60_000 },
    async (provider, { skip }) => {
      if (provider === 'aws' && !AS_ROOT) skip('the IAM sandbox writes to /etc/pam.d: it needs root (CI runs as root)');
      const env = ormEnv(provider, provider === 'aws' ? undefined : logins[provider], bastion, iam, { DB_POOL_MAX: String(SCENARIO_POOL_MAX) });
      const result = await runScript<{ scenario: ScenarioReport; setup: SetupReport }>(`${dir}/dist/orm-kdk-knex-script.js`, dir, env);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expectScenario(result.report?.scenario);
      expectSetupSurvivesReset(result.report?.setup);
    },
  );

  it('examples/knex, compiled against the published package, runs over basic and over ssh', async () => {
    for (const provider of ['basic', 'ssh'] as const) {
      const result = await runScript(example, dirname(example), ormEnv(provider, logins.example, bastion, iam));
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe(EXAMPLE_OUTPUT);
      expect(result.code).toBe(0);
    }
  });

  it('migrations: `dbswitch exec -- knex migrate:latest` with the dbswitch knexfile, `migrate:rollback` with a plain DATABASE_URL one, then `knex migrate:latest` without exec; over basic, then over ssh', async () => {
    for (const provider of ['basic', 'ssh'] as const) {
      const project = migrationProject();
      const login = logins.migrations;
      const env = ormEnv(provider, login, bastion, iam);
      await sharedServer.admin(`DROP TABLE IF EXISTS \`${login.database}\`.notes, \`${login.database}\`.knex_migrations, \`${login.database}\`.knex_migrations_lock`);
      const tables = async (): Promise<string[]> =>
        (await sharedServer.admin<{ name: string }[]>('SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME', [login.database])).map((row) => row.name);

      const latest = await knexCli(project, env, ['migrate:latest', '--knexfile', 'knexfile.js']);
      expect(latest).toMatchObject({ code: 0, stderr: '' });
      expect(latest.stdout).toContain('Batch 1 run: 1 migrations');
      expect(await tables()).toEqual(expect.arrayContaining(['knex_migrations', 'knex_migrations_lock', 'notes']));
      expect(await sharedServer.admin(`SELECT name, batch FROM \`${login.database}\`.knex_migrations`)).toEqual([{ name: '20260101000000_create_notes.js', batch: 1 }]);

      const again = await knexCli(project, env, ['migrate:latest', '--knexfile', 'knexfile.js']);
      expect(again.stdout).toContain('Already up to date');

      const rollback = await knexCli(project, env, ['migrate:rollback', '--knexfile', 'knexfile-url.js']);
      expect(rollback).toMatchObject({ code: 0, stderr: '' });
      expect(rollback.stdout).toContain('Batch 1 rolled back: 1 migrations');
      expect(await tables()).not.toContain('notes');

      // The dbswitch knexfile needs no `dbswitch exec`: the CLI reaches the database in-process.
      const direct = await knexCli(project, env, ['migrate:latest', '--knexfile', 'knexfile.js'], false);
      expect(direct).toMatchObject({ code: 0, stderr: '' });
      expect(direct.stdout).toContain('Batch 1 run: 1 migrations');
      expect(await tables()).toContain('notes');
    }
  }, 60_000);
});

const execute = promisify(execFile);

/** A knex project: a knexfile on dbswitch/knex, one on DATABASE_URL (plain knex), one migration. */
function migrationProject(): string {
  const project = join(consumer, 'orm-kdk-knex-migrations');
  mkdirSync(join(project, 'migrations'), { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'orm-kdk-knex-migrations', private: true, type: 'module' }));
  // The same file runs with or without `dbswitch exec` (under it, DB_TYPE=basic to the endpoint).
  writeFileSync(
    join(project, 'knexfile.js'),
    `import { createDb } from 'dbswitch';
import { knexConfig } from 'dbswitch/knex';
export default async () => knexConfig(await createDb(), { migrations: { directory: './migrations' } });
`,
  );
  writeFileSync(join(project, 'knexfile-url.js'), "export default { client: 'mysql2', connection: process.env.DATABASE_URL, migrations: { directory: './migrations' } };\n");
  writeFileSync(
    join(project, 'migrations', '20260101000000_create_notes.js'),
    `export const up = (knex) => knex.schema.createTable('notes', (table) => { table.increments('id'); table.string('body', 200).notNullable(); });
export const down = (knex) => knex.schema.dropTable('notes');
`,
  );
  return project;
}

/** `dbswitch exec -- knex <args>` (or `knex <args>` alone) in `project`, as the installed bins: exit code and output. */
async function knexCli(project: string, env: Record<string, string>, args: readonly string[], underExec = true): Promise<{ code: number; stdout: string; stderr: string }> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(DB_|SSH_|AWS_|ORM_|DATABASE_URL$|MYSQL_|NODE_ENV$)/.test(name)));
  const bin = (name: string): string => join(consumer, 'node_modules', '.bin', name);
  try {
    const [command, argv] = underExec ? [bin('dbswitch'), ['exec', '--', bin('knex'), ...args]] : [bin('knex'), args];
    const { stdout, stderr } = await execute(command, argv, { cwd: project, env: { ...inherited, ...env }, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const { code, stdout, stderr } = err as { code?: number; stdout?: string; stderr?: string };
    return { code: code ?? -1, stdout: stdout ?? '', stderr: stderr ?? '' };
  }
}

