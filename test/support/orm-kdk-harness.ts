// The test side of test/orm/{kysely,drizzle,knex}*.test.ts: compiles the ORM scripts
// (test/support/orm-kdk-*-script.ts, with orm-kdk-child.ts) and the examples in the consumer
// project against the published package, runs them as child processes with a provider's
// environment, and checks what they report.
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect } from 'vitest';
import { IAM_SERVER_ARGS, installIamAuthentication, SANDBOX_AWS, type IamAuthentication } from '../../sandbox/iam-pam.js';
import { startMariaDb, type MariaDbSandbox } from '../../sandbox/mariadb-sandbox.js';
import type { SshSandbox } from '../../sandbox/ssh-sandbox.js';
import type { ScenarioReport, SetupReport } from './orm-kdk-child.js';
import { faultEnv, sharedServer, useFaultLogin, type FaultLogin } from './faults.js';
import { sandbox } from './test-db.js';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./orm-kdk-child.ts', import.meta.url));

/** PAM reads its services only from /etc/pam.d: the IAM variant needs root (CI runs as root). */
export const AS_ROOT = process.getuid?.() === 0;

/** The providers every ORM runs over. */
export const ORM_PROVIDERS = ['basic', 'ssh', 'aws'] as const;
export type OrmProvider = (typeof ORM_PROVIDERS)[number];

/** The pool size the scenarios run with: the burst of 40 callers must queue. */
export const SCENARIO_POOL_MAX = 4;

/** How long a script may run at most before it is killed. */
const SCRIPT_LIMIT_MS = 60_000;

/**
 * Copies `sources` (test/support or examples files) into `<consumer>/<folder>` with
 * orm-kdk-child.ts, and compiles them there with the consumer's TypeScript (strict,
 * exactOptionalPropertyTypes, noUncheckedIndexedAccess). Returns the folder; scripts are in
 * `dist/<name>.js`.
 */
export async function compileScripts(consumer: string, folder: string, sources: readonly string[]): Promise<string> {
  const dir = join(consumer, folder);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: folder, private: true, type: 'module' }));
  const files = [CHILD, ...sources].map((source) => {
    copyFileSync(source, join(dir, basename(source)));
    return basename(source);
  });
  const compilerOptions = {
    strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, skipLibCheck: true,
    module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: ['node'], rootDir: '.', outDir: 'dist',
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }));
  try {
    await run(process.execPath, [join(consumer, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir, timeout: 90_000 });
  } catch (err) {
    throw new Error(`${folder} does not compile against the published package:\n${String((err as { stdout?: string }).stdout ?? err)}`);
  }
  return dir;
}

/**
 * Copies examples/<name>/app.ts and its tsconfig.json into `<consumer>/<folder>` and compiles it
 * there, as its README says. Returns the compiled script.
 */
export async function compileExample(consumer: string, folder: string, exampleDir: string): Promise<string> {
  const dir = join(consumer, folder);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: folder, private: true, type: 'module' }));
  copyFileSync(join(exampleDir, 'app.ts'), join(dir, 'app.ts'));
  copyFileSync(join(exampleDir, 'tsconfig.json'), join(dir, 'tsconfig.json'));
  try {
    await run(process.execPath, [join(consumer, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir, timeout: 90_000 });
  } catch (err) {
    throw new Error(`${exampleDir}/app.ts does not compile against the published package:\n${String((err as { stdout?: string }).stdout ?? err)}`);
  }
  return join(dir, 'dist/app.js');
}

/** What each example prints (they share their story: a todo list). */
export const EXAMPLE_OUTPUT = ['rolled back: changed my mind', 'open: write the report', '#1 write the report', '#2 book the venue', "the server's year has 4 digits", ''].join('\n');

/** How a script ended: its exit code, output, and the REPORT line parsed. */
export interface ScriptRun<R> {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly report: R | undefined;
  readonly ms: number;
}

/** Runs `script` with node in `cwd`, with `env` as its whole dbswitch environment; killed after SCRIPT_LIMIT_MS. */
export async function runScript<R>(script: string, cwd: string, env: Record<string, string>, args: readonly string[] = []): Promise<ScriptRun<R>> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(DB_|SSH_|AWS_|ORM_|DATABASE_URL$|MYSQL_|NODE_ENV$)/.test(name)));
  const started = Date.now();
  const child = spawn(process.execPath, [script, ...args], { cwd, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), SCRIPT_LIMIT_MS);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(killer);
  const line = stdout.split('\n').find((text) => text.startsWith('REPORT '));
  const report = line === undefined ? undefined : (JSON.parse(line.slice('REPORT '.length)) as R);
  return { code, stdout, stderr, report, ms: Date.now() - started };
}

/** A MariaDB of the file's own that logs users in with RDS IAM tokens (the sandbox's PAM checker). */
export interface IamServer {
  readonly server: MariaDbSandbox;
  readonly iam: IamAuthentication;
}

/**
 * An IAM-checking MariaDB for the file (root only), with iam_user on iamdb: `start()` it in the
 * file's beforeAll (beside the compile, to save time); it is removed after the file's tests.
 */
export function useIamServer(): { readonly current: IamServer; start(): Promise<void> } {
  const state: { current?: IamServer; starting?: Promise<void> } = {};
  afterAll(async () => {
    await state.starting?.catch(() => undefined);
    await state.current?.iam.remove();
    await state.current?.server.destroy();
  });
  return {
    get current() {
      if (state.current === undefined) throw new Error('the IAM server is not started (it needs root)');
      return state.current;
    },
    start() {
      if (!AS_ROOT) return Promise.resolve();
      state.starting ??= (async () => {
        const server = await startMariaDb({ extraArgs: IAM_SERVER_ARGS });
        state.current = { server, iam: await installIamAuthentication(server, `localhost:${server.port}`) };
        await state.current.iam.createUser('iam_user', 'iamdb');
      })();
      return state.starting;
    },
  };
}

/** A login on the shared server for each provider that uses it, so runs side by side never see each other's connections. */
export function useLogins(name: string): Record<'basic' | 'ssh' | 'example' | 'migrations', FaultLogin> {
  return {
    basic: useFaultLogin(`${name}_b`, () => sharedServer),
    ssh: useFaultLogin(`${name}_s`, () => sharedServer),
    example: useFaultLogin(`${name}_e`, () => sharedServer),
    migrations: useFaultLogin(`${name}_m`, () => sharedServer),
  };
}

/**
 * The child's environment for `provider`: the DB_* / SSH_* / AWS_* settings, and
 * ORM_ADMIN_SOCKET (root on the server's socket) for the scenario's KILLs and processlist.
 */
export function ormEnv(
  provider: OrmProvider,
  login: FaultLogin | undefined,
  bastion: { readonly current: SshSandbox; readonly dir: string },
  iam: { readonly current: IamServer },
  overrides: Record<string, string> = {},
): Record<string, string> {
  if (provider === 'aws') {
    const { server } = iam.current;
    return {
      DB_TYPE: 'aws',
      DB_HOST: 'localhost',
      DB_PORT: String(server.port),
      DB_USER: 'iam_user',
      DB_NAME: 'iamdb',
      DB_TLS_CA: server.tls.caPath,
      AWS_REGION: SANDBOX_AWS.region,
      AWS_ACCESS_KEY_ID: SANDBOX_AWS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: SANDBOX_AWS.secretAccessKey,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      DB_LOG_LEVEL: 'silent',
      ORM_ADMIN_SOCKET: server.socketPath,
      ...overrides,
    };
  }
  if (login === undefined) throw new Error(`no login for ${provider}`);
  return { ...faultEnv(provider, sharedServer, login, bastion), ORM_ADMIN_SOCKET: sandbox().socketPath, ...overrides };
}

/** What every ORM must show in the common scenario (orm-kdk-child.ts runScenario). */
export function expectScenario(report: ScenarioReport | undefined): void {
  expect(report).toBeDefined();
  if (report === undefined) return;
  expect(report.crud).toEqual({ rows: [{ name: 'a', qty: 1 }, { name: 'b', qty: 20 }], firstId: 1, updated: 1, removed: 1 });
  expect(report.committed).toBe(true);
  expect(report.rolledBack).toEqual({ error: 'rolled back on purpose', rowPresent: false });
  expect(report.streamed).toEqual({ count: 1000, sum: 500_500 });
  expect(report.streamStoppedEarly).toMatchObject({ rows: 10, nextCall: { status: 'ok' }, statementStopped: true });
  expect(report.burst).toMatchObject({ ok: 40, failed: 0 });
  // pool.max, and the control connection dbswitch KILLs from (the stream left early needed it).
  expect(report.burst.mostServerConnections).toBeLessThanOrEqual(report.burst.poolMax + 1);
  expect(report.killedIdle).toMatchObject({ nextCall: { status: 'ok' }, newConnection: true });
  // A call in flight on a killed connection fails at once, with the driver's error; the next call works.
  expect(report.killedInFlight).toMatchObject({ killed: true, call: { status: 'error', code: 'PROTOCOL_CONNECTION_LOST' }, nextCall: { status: 'ok' } });
  expect(report.killedInFlight.call.ms).toBeLessThan(2000);
  expect(report.killedStream).toMatchObject({ killed: true, call: { status: 'error', code: 'PROTOCOL_CONNECTION_LOST' }, nextCall: { status: 'ok' } });
  expect(report.killedStream.call.ms).toBeLessThan(2000);
  // Nothing leaked: no lease or waiter left after the ORM's own shutdown, no server connection after db.close().
  expect(report.end.statsAfterDestroy).toMatchObject({ leased: 0, waiting: 0, opening: 0 });
  expect(report.end.serverConnectionsBeforeClose).toBeLessThanOrEqual(report.burst.poolMax + 1);
  expect(report.end.serverConnectionsAfterClose).toBe(0);
}

/**
 * The per-connection setup decision (issue 10): the ORM's hook runs again on a connection
 * dbswitch reset, so every ORM query sees its setting; sessions never see it.
 */
export function expectSetupSurvivesReset(report: SetupReport | undefined): void {
  expect(report).toBeDefined();
  if (report === undefined) return;
  const [first] = report.ormQueries;
  // One physical connection throughout (DB_POOL_MAX=1): the reset path, not a new connection.
  expect(report.ormQueries.map((query) => query.id)).toEqual(report.ormQueries.map(() => first?.id));
  expect(report.sessions.map((session) => session.id)).toEqual([first?.id, first?.id]);
  expect(report.ormQueries.map((query) => query.tz)).toEqual(['+02:00', '+02:00', '+02:00', '+02:00']);
  // The sessions see a clean connection: neither the ORM's time zone nor the other session's variable.
  expect(report.sessions.map(({ tz, changed }) => ({ tz, changed }))).toEqual([
    { tz: 'SYSTEM', changed: null },
    { tz: 'SYSTEM', changed: null },
  ]);
  // The hook's own SET changes session state, so each release resets and each checkout runs it
  // again: correct, at a reset per checkout (DB_INIT_SQL costs nothing per checkout).
  expect(report.setupRuns).toBe(report.ormQueries.length);
  expect(report.statsAtEnd).toMatchObject({ leased: 0, waiting: 0 });
}
