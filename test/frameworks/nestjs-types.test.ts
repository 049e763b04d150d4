// dbswitch/nestjs as users get it from npm: its types in NestJS projects (CommonJS as `nest new`
// makes them, strict CommonJS and ESM), its entry point under require(), and the example of
// examples/nestjs compiled with its own tsconfig and run against the test bed over basic, ssh and
// aws (RDS IAM, as root), side by side, each as a database user of its own.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBastion } from '../support/bastion.js';
import { consumerProject } from '../support/consumer-project.js';
import { faultEnv, processlist, runningStatements, sharedServer, useFaultLogin, waitForStatements, type FaultServer } from '../support/faults.js';
import { compileNestProject, get, NEST_TSCONFIG, startNestApp, type NestApp } from '../support/nestjs-harness.js';
import { AS_ROOT, ORM_PROVIDERS, ormEnv, useIamServer, type OrmProvider } from '../support/orm-kdk-harness.js';
import { eventually } from '../support/test-db.js';

const run = promisify(execFile);
const USAGE = readFileSync(fileURLToPath(new URL('../support/nestjs-usage.ts', import.meta.url)), 'utf8');
const EXAMPLE = fileURLToPath(new URL('../../examples/nestjs/', import.meta.url));

// The example's logins: one per provider on the shared server, so that the runs side by side never see each other's connections.
const logins = { basic: useFaultLogin('nest_example_b', () => sharedServer), ssh: useFaultLogin('nest_example_s', () => sharedServer) };
const bastion = useBastion();
// For aws: a MariaDB of the file's own that logs iam_user in with RDS IAM tokens (root only).
const iam = useIamServer();

let consumer = '';
beforeAll(async () => {
  [consumer] = await Promise.all([consumerProject(), iam.start()]);
}, 300_000);

const STRICT = { strict: true, skipLibCheck: false, experimentalDecorators: true, emitDecoratorMetadata: true, target: 'ES2023', types: ['node'], outDir: './dist' };

describe('the published types of dbswitch/nestjs', () => {
  it("compile in a CommonJS project with `nest new`'s tsconfig (module commonjs), strict or not, and in a strict nodenext one with skipLibCheck: false", async () => {
    const files = { 'src/usage.ts': USAGE };
    const strictCjs = { compilerOptions: { ...NEST_TSCONFIG.compilerOptions, strict: true, noImplicitAny: true, strictBindCallApply: true }, include: ['src'] };
    const strictNodeNext = { compilerOptions: { ...STRICT, module: 'nodenext', moduleResolution: 'nodenext' }, include: ['src'] };
    const compiled = await Promise.all([
      compileNestProject(consumer, 'nest-types-cli', NEST_TSCONFIG, files),
      compileNestProject(consumer, 'nest-types-cjs-strict', strictCjs, files),
      compileNestProject(consumer, 'nest-types-nodenext', strictNodeNext, files),
    ]);
    expect(compiled).toHaveLength(3);
  }, 120_000);

  it('is required from CommonJS with every public name, and opens nothing on import', async () => {
    const probe = `const open = () => process.getActiveResourcesInfo().filter((kind) => /TCP|Pipe|Timeout|Immediate|Interval/.test(kind));
const before = open();
const nest = require('dbswitch/nestjs');
const opened = open().filter((kind, i) => before[i] !== kind);
console.log(JSON.stringify({ names: Object.keys(nest).sort(), forRoot: typeof nest.DbModule.forRoot, token: typeof nest.DB_SESSION, opened }));`;
    const { stdout } = await run(process.execPath, ['-e', probe], { cwd: consumer });
    expect(JSON.parse(stdout)).toEqual({ names: ['DB_SESSION', 'DbExceptionFilter', 'DbModule', 'InjectDbSession'], forRoot: 'function', token: 'symbol', opened: [] });
  });
});

/** Where the example runs over `provider`: its environment, the server it reaches, and its user there. */
function exampleTarget(provider: OrmProvider): { env: Record<string, string>; server: FaultServer; user: string } {
  if (provider !== 'aws') return { env: faultEnv(provider, sharedServer, logins[provider], bastion), server: sharedServer, user: logins[provider].user };
  const { server } = iam.current;
  const admin = async <T>(sql: string, values?: unknown[]): Promise<T> => {
    const connection = await server.admin();
    try {
      return (await connection.query(sql, values))[0] as T;
    } finally {
      await connection.end();
    }
  };
  return { env: ormEnv('aws', undefined, bastion, iam), server: { port: server.port, admin }, user: 'iam_user' };
}

describe.concurrent('the example in examples/nestjs', () => {
  const apps = new Set<NestApp>();
  afterAll(async () => {
    await Promise.all([...apps].map((app) => app.kill()));
  });

  let script = '';
  beforeAll(async () => {
    const files: Record<string, string> = {};
    for (const name of readdirSync(join(EXAMPLE, 'src'))) files[`src/${name}`] = readFileSync(join(EXAMPLE, 'src', name), 'utf8');
    const dir = await compileNestProject(consumer, 'nest-example', readFileSync(join(EXAMPLE, 'tsconfig.json'), 'utf8'), files);
    script = join(dir, 'dist/main.js');
  }, 120_000);

  it.for(ORM_PROVIDERS)('compiled with its own tsconfig, over %s: answers, cancels an abandoned statement, and stops on SIGTERM', { timeout: 40_000 }, async (provider, { skip }) => {
    if (provider === 'aws' && !AS_ROOT) skip('the IAM sandbox writes to /etc/pam.d: it needs root (CI runs as root)');
    const { env, server, user } = exampleTarget(provider);
    const app = await startNestApp(script, env, /listening on http:\/\/127\.0\.0\.1:(\d+)/);
    apps.add(app);

    const whoami = await get(app.port, '/whoami');
    expect(whoami).toMatchObject({ kind: 'answered', status: 200 });
    expect(whoami.kind === 'answered' && (JSON.parse(whoami.body) as { user: string }).user).toMatch(new RegExp(`^${user}@`));
    const transfer = await fetch(`http://127.0.0.1:${app.port}/transfer`, { method: 'POST' });
    expect(await transfer.json()).toEqual([{ id: 1, balance: 90 }, { id: 2, balance: 10 }]);

    // A request in flight; meanwhile another's client leaves during /slow: its statement is
    // killed on the server at once, and nothing is logged as an error.
    const inFlight = get(app.port, '/slow?seconds=3');
    await waitForStatements(server, user, 'SELECT SLEEP');
    expect(await get(app.port, '/slow?seconds=5', { abortAfterMs: 300 })).toMatchObject({ kind: 'aborted' });
    expect(await eventually(async () => (await runningStatements(server, user)).length === 1, 1000)).toBe(true);
    expect(await get(app.port, '/health')).toMatchObject({ kind: 'answered', status: 200 });

    // SIGTERM: the request in flight still gets its answer, then the process ends (Nest re-raises the signal).
    app.signal('SIGTERM');
    expect(await inFlight).toMatchObject({ kind: 'answered', status: 200, body: '{"slept":3}' });
    const exit = await Promise.race([app.exited, new Promise<'running'>((resolve) => setTimeout(resolve, 5000, 'running'))]);
    expect(exit).toMatchObject({ signal: 'SIGTERM' });
    expect(app.stderr()).toBe('');
    // DbModule closed the Db: no connection left on the server (over ssh, none through the tunnel either).
    expect(await eventually(async () => (await processlist(server, user)).length === 0, 2000)).toBe(true);
  });
});
