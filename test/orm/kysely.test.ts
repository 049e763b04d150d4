// Kysely 0.28 on dbswitch as a user runs it: `new Kysely({ dialect: new MysqlDialect({ pool:
// db.pool() }) })`, compiled in a project of its own against the published package, over basic,
// ssh and aws (RDS IAM). The scenario is test/support/orm-kdk-child.ts's. The providers run side
// by side, each as a login of its own.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBastion } from '../support/bastion.js';
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

const SCRIPT = fileURLToPath(new URL('../support/orm-kdk-kysely-script.ts', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../examples/kysely', import.meta.url));

const logins = useLogins('kdk_kysely');
const bastion = useBastion();
const iam = useIamServer();

let dir = '';
let example = '';
beforeAll(async () => {
  const consumer = await consumerProject();
  [dir, example] = await Promise.all([
    compileScripts(consumer, 'orm-kdk-kysely', [SCRIPT]),
    compileExample(consumer, 'orm-kdk-kysely-example', EXAMPLE),
    iam.start(),
  ]);
}, 300_000);

describe.concurrent('Kysely on db.pool()', () => {
  it.for(ORM_PROVIDERS)(
    'over %s: CRUD, committed and rolled-back transactions, .stream() (also left early), connections killed idle and mid-call, nothing leaked; onCreateConnection survives a reset',
    { timeout: 60_000 },
    async (provider, { skip }) => {
      if (provider === 'aws' && !AS_ROOT) skip('the IAM sandbox writes to /etc/pam.d: it needs root (CI runs as root)');
      const env = ormEnv(provider, provider === 'aws' ? undefined : logins[provider], bastion, iam, { DB_POOL_MAX: String(SCENARIO_POOL_MAX) });
      const result = await runScript<{ scenario: ScenarioReport; setup: SetupReport }>(`${dir}/dist/orm-kdk-kysely-script.js`, dir, env);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expectScenario(result.report?.scenario);
      expectSetupSurvivesReset(result.report?.setup);
    },
  );

  it('examples/kysely, compiled against the published package, runs over basic and over ssh', async () => {
    for (const provider of ['basic', 'ssh'] as const) {
      const result = await runScript(example, dirname(example), ormEnv(provider, logins.example, bastion, iam));
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe(EXAMPLE_OUTPUT);
      expect(result.code).toBe(0);
    }
  });
});
