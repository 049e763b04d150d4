// dbswitch/nestjs as users get it from npm: its types in NestJS projects (CommonJS as `nest new`
// makes them, strict CommonJS and ESM), its entry point under require(), and the example of
// examples/nestjs compiled with its own tsconfig and run against the test bed.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerProject } from '../support/consumer-project.js';
import { runningStatements, sharedServer, useFaultLogin, waitForStatements } from '../support/faults.js';
import { compileNestProject, get, NEST_TSCONFIG, startNestApp, type NestApp } from '../support/nestjs-harness.js';
import { basicEnv, eventually } from '../support/test-db.js';

const run = promisify(execFile);
const USAGE = readFileSync(fileURLToPath(new URL('../support/nestjs-usage.ts', import.meta.url)), 'utf8');
const EXAMPLE = fileURLToPath(new URL('../../examples/nestjs/', import.meta.url));

const login = useFaultLogin('nest_example', () => sharedServer);

let consumer = '';
beforeAll(async () => {
  consumer = await consumerProject();
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

describe('the example in examples/nestjs', () => {
  let app: NestApp | undefined;
  afterAll(async () => {
    await app?.kill();
  });

  it('compiles with its own tsconfig, answers, cancels an abandoned statement, and stops on SIGTERM', async () => {
    const files: Record<string, string> = {};
    for (const name of readdirSync(join(EXAMPLE, 'src'))) files[`src/${name}`] = readFileSync(join(EXAMPLE, 'src', name), 'utf8');
    const dir = await compileNestProject(consumer, 'nest-example', readFileSync(join(EXAMPLE, 'tsconfig.json'), 'utf8'), files);
    const env = { ...basicEnv(login.database), DB_USER: login.user, DB_PASSWORD: login.password };
    app = await startNestApp(join(dir, 'dist/main.js'), env, /listening on http:\/\/127\.0\.0\.1:(\d+)/);

    const whoami = await get(app.port, '/whoami');
    expect(whoami).toMatchObject({ kind: 'answered', status: 200 });
    expect(whoami.kind === 'answered' && (JSON.parse(whoami.body) as { user: string }).user).toMatch(new RegExp(`^${login.user}@`));
    const transfer = await fetch(`http://127.0.0.1:${app.port}/transfer`, { method: 'POST' });
    expect(await transfer.json()).toEqual([{ id: 1, balance: 90 }, { id: 2, balance: 10 }]);

    // A request in flight; meanwhile another's client leaves during /slow: its statement is
    // killed on the server at once, and nothing is logged as an error.
    const inFlight = get(app.port, '/slow?seconds=3');
    await waitForStatements(sharedServer, login.user, 'SELECT SLEEP');
    expect(await get(app.port, '/slow?seconds=5', { abortAfterMs: 300 })).toMatchObject({ kind: 'aborted' });
    expect(await eventually(async () => (await runningStatements(sharedServer, login.user)).length === 1, 1000)).toBe(true);
    expect(await get(app.port, '/health')).toMatchObject({ kind: 'answered', status: 200 });

    // SIGTERM: the request in flight still gets its answer, then the process ends (Nest re-raises the signal).
    app.signal('SIGTERM');
    expect(await inFlight).toMatchObject({ kind: 'answered', status: 200, body: '{"slept":3}' });
    const exit = await Promise.race([app.exited, new Promise<'running'>((resolve) => setTimeout(resolve, 5000, 'running'))]);
    expect(exit).toMatchObject({ signal: 'SIGTERM' });
    expect(app.stderr()).toBe('');
    expect(await eventually(async () => (await sharedServer.admin<unknown[]>('SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?', [login.user])).length === 0, 2000)).toBe(true);
  }, 40_000);
});
