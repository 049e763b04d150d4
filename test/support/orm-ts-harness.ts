import { execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';
import { IAM_SERVER_ARGS, installIamAuthentication, SANDBOX_AWS, type IamAuthentication } from '../../sandbox/iam-pam.js';
import { startMariaDb, type MariaDbSandbox } from '../../sandbox/mariadb-sandbox.js';

const run = promisify(execFile);

/**
 * Copies `sources` (TypeScript files) into `<consumer>/<folder>` and compiles them there with the
 * consumer's tsc against the published package; returns the folder. `tsconfig`: a file to use
 * instead of the default (strict, exactOptionalPropertyTypes, noUncheckedIndexedAccess; library
 * types skipped: TypeORM's and Sequelize's declarations name optional drivers that are not
 * installed). `extraFiles`: more files to write as they are (name -> text).
 */
export async function compileProject(
  consumer: string,
  folder: string,
  sources: readonly string[],
  options: { tsconfig?: string; extraFiles?: Record<string, string> } = {},
): Promise<string> {
  const dir = join(consumer, folder);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: folder, private: true, type: 'module' }));
  for (const source of sources) copyFileSync(source, join(dir, basename(source)));
  for (const [name, text] of Object.entries(options.extraFiles ?? {})) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  if (options.tsconfig !== undefined) copyFileSync(options.tsconfig, join(dir, 'tsconfig.json'));
  else {
    const compilerOptions = {
      strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, skipLibCheck: true,
      module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: ['node'], rootDir: '.', outDir: 'dist',
    };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: sources.map((source) => basename(source)) }));
  }
  try {
    await run(process.execPath, [join(consumer, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir, timeout: 90_000 });
  } catch (err) {
    throw new Error(`${folder} does not compile against the published package:\n${String((err as { stdout?: string }).stdout ?? err)}`);
  }
  return dir;
}

/** How a child process ended, what it printed, and the JSON of its last stdout line. */
export interface ChildRun<T> {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The last line of stdout as JSON (undefined when it is not JSON). */
  readonly result: T | undefined;
  readonly ms: number;
}

/**
 * Runs `command args` in `cwd` with `env` alone (plus PATH): no DB_* variable of the test
 * runner's leaks in. SIGKILLed after `timeoutMs` (then `signal` says so): a child that does not
 * exit by itself has something keeping it alive.
 */
export async function runChild<T = Record<string, unknown>>(
  cwd: string,
  command: string,
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<ChildRun<T>> {
  const started = Date.now();
  const child = spawn(command, args, { cwd, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.once('close', (exitCode, exitSignal) => {
      resolve([exitCode, exitSignal]);
    });
  });
  clearTimeout(killer);
  const last = stdout.trim().split('\n').at(-1) ?? '';
  let result: T | undefined;
  try {
    result = JSON.parse(last) as T;
  } catch {
    result = undefined;
  }
  return { code, signal, stdout, stderr, result, ms: Date.now() - started };
}

/** Runs a compiled script of `dir` (dist/<name>.js) with node. */
export function runScript<T = Record<string, unknown>>(dir: string, name: string, env: Record<string, string>, timeoutMs?: number): Promise<ChildRun<T>> {
  return runChild<T>(dir, process.execPath, [join(dir, 'dist', `${name}.js`)], env, timeoutMs);
}

/** A MariaDB of the file's own whose user `iam_user` logs in with RDS IAM tokens (PAM; root only). */
export interface IamServer {
  readonly server: MariaDbSandbox;
  /** DB_TYPE=aws to `database` as iam_user, with the sandbox's fake AWS credentials in the env. */
  env(overrides?: Record<string, string>): Record<string, string>;
  /** Every token the checker accepted or refused, oldest first. */
  received(): Promise<{ ok: boolean }[]>;
}

/** Starts the IAM server before the file's tests when running as root (CI), and removes it after. */
export function useIamServer(database: string): { readonly current: IamServer } {
  const state: { server?: MariaDbSandbox; iam?: IamAuthentication } = {};
  beforeAll(async () => {
    if (process.getuid?.() !== 0) return;
    state.server = await startMariaDb({ extraArgs: IAM_SERVER_ARGS });
    state.iam = await installIamAuthentication(state.server, `localhost:${state.server.port}`);
    await state.iam.createUser('iam_user', database);
  });
  afterAll(async () => {
    await state.iam?.remove();
    await state.server?.destroy();
  });
  return {
    get current(): IamServer {
      const { server, iam } = state;
      if (server === undefined || iam === undefined) throw new Error('the IAM server is not started (it needs root)');
      return {
        server,
        env: (overrides = {}) => ({
          DB_TYPE: 'aws',
          DB_HOST: 'localhost',
          DB_PORT: String(server.port),
          DB_USER: 'iam_user',
          DB_NAME: database,
          DB_TLS_CA: server.tls.caPath,
          DB_LOG_LEVEL: 'silent',
          AWS_REGION: SANDBOX_AWS.region,
          AWS_ACCESS_KEY_ID: SANDBOX_AWS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: SANDBOX_AWS.secretAccessKey,
          ADMIN_SOCKET: server.socketPath,
          ...overrides,
        }),
        received: () => iam.received(),
      };
    },
  };
}
