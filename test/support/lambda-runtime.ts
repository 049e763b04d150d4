// A local stand-in for AWS Lambda's Node.js runtime, for test/frameworks/lambda*.test.ts and
// bench/lambda.js's figures: a child process that imports a handler module (the INIT phase),
// then invokes it once per line on its stdin as the runtime does (`await handler(event,
// context)` with a context whose getRemainingTimeInMillis() counts down), and after each
// invocation reports what it left keeping the event loop alive. "Freezing" the environment is
// SIGSTOP, thawing SIGCONT: timers and sockets stand still meanwhile, as in Lambda.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The runtime. Reference: the Node.js runtime interface client awaits the handler's promise
 * and freezes the environment once it settles. The baseline of ref'd resources is taken before
 * the first invocation; what an invocation adds is reported as `handles`
 * after one turn of the event loop (sockets closing at the end of a release are let finish).
 */
const RUNTIME = `import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const [modulePath, exportName] = process.argv.slice(2);
const mod = await import(pathToFileURL(modulePath).href);
const handler = mod[exportName];
if (typeof handler !== 'function') throw new Error(modulePath + ' exports no function ' + exportName);
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
// The runtime's own stdio pipes come and go as readline pauses and resumes stdin: not counted
// (dbswitch opens no pipe). Everything else that keeps the loop alive is.
const baseline = process.getActiveResourcesInfo().filter((kind) => kind !== 'PipeWrap');
const extra = () => {
  const left = [...baseline];
  return process.getActiveResourcesInfo().filter((kind) => {
    if (kind === 'PipeWrap') return false;
    const i = left.indexOf(kind);
    if (i === -1) return true;
    left.splice(i, 1);
    return false;
  });
};
const describe = (err) => err === null || typeof err !== 'object'
  ? { message: String(err) }
  : { name: err.name, code: err.code, message: err.message, cause: err.cause === undefined ? undefined : describe(err.cause) };
const say = (reply) => process.stdout.write(JSON.stringify(reply) + '\\n');
say({ ready: true, handles: extra() });
let count = 0;
for await (const line of lines) {
  const { event, timeoutMs } = JSON.parse(line);
  const deadline = Date.now() + timeoutMs;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'dbswitch-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:dbswitch-test',
    memoryLimitInMB: '128',
    awsRequestId: 'request-' + ++count,
    logGroupName: '/aws/lambda/dbswitch-test',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  const started = Date.now();
  let reply;
  try {
    reply = { ok: true, result: await handler(event, context) };
  } catch (err) {
    reply = { ok: false, error: describe(err) };
  }
  // Read in the same turn as the promise settled: what the handler's module says of its Db.
  reply.probe = typeof mod.probe === 'function' ? mod.probe() : undefined;
  reply.ms = Date.now() - started;
  await new Promise((resolve) => setImmediate(resolve));
  reply.handles = extra();
  say(reply);
}
say({ end: true });
`;

/** How one invocation ended, as the runtime saw it. */
export type Invocation<T = unknown> = (
  | { readonly ok: true; readonly result: T }
  | { readonly ok: false; readonly error: DescribedError }
) & {
  /** What the module's `probe()` returned right as the invocation's promise settled. */
  readonly probe: unknown;
  /** From the call to the settled promise. */
  readonly ms: number;
  /** Resources keeping the event loop alive after the invocation beyond those before the first (names from process.getActiveResourcesInfo()). */
  readonly handles: string[];
};

export interface DescribedError {
  readonly name?: string;
  readonly code?: string;
  readonly message: string;
  readonly cause?: DescribedError;
}

/** A Lambda execution environment: one runtime process with the handler loaded. */
export interface LambdaEnvironment {
  readonly pid: number;
  /** Invokes the handler with `event` and a context of `timeoutMs` (default 3000, Lambda's default timeout). */
  invoke<T = unknown>(event: unknown, timeoutMs?: number): Promise<Invocation<T>>;
  /** Sends an invocation without waiting (e.g. while frozen: it runs at the thaw); `next()` reads its reply. */
  send(event: unknown, timeoutMs?: number): void;
  /** The next reply. */
  next<T = unknown>(): Promise<Invocation<T>>;
  freeze(): void;
  thaw(): void;
  /** No more invocations: closes the runtime's stdin, so that it has nothing left to do. */
  end(): void;
  /** Resolves when the process exits (by itself, or killed at its time limit). */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly at: number }>;
  /** When the runtime said it was done (its loop over invocations ended). */
  endedAt(): number | undefined;
  stderr(): string;
  /** SIGKILL if still running; waits for the exit. */
  stop(): Promise<void>;
}

const LIFETIME_MS = 60_000;
const REPLY_TIMEOUT_MS = 20_000;

/** Handlers compiled in a folder of the consumer project. */
export interface CompiledHandlers {
  /** The folder of the compiled .js files (and of the runtime). */
  readonly dist: string;
  /** Every file the TypeScript program read (tsc --listFiles). */
  readonly programFiles: string[];
}

/**
 * Compiles handler modules (TypeScript importing 'dbswitch' and 'dbswitch/lambda') in `folder`
 * of the consumer project, in one program, as a user's ESM project under strict TypeScript
 * would (skipLibCheck false, no @types other than node's); writes the runtime beside them.
 */
export async function compileHandlers(consumer: string, folder: string, sources: readonly string[]): Promise<CompiledHandlers> {
  const dir = join(consumer, folder);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: folder, private: true, type: 'module' }));
  const files = sources.map((source) => {
    copyFileSync(source, join(dir, basename(source)));
    return basename(source);
  });
  const compilerOptions = {
    strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, skipLibCheck: false,
    module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: ['node'], rootDir: '.', outDir: 'dist',
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }));
  let listed: string;
  try {
    // Generous: several test files compile at once on a small machine, each reading the AWS SDK's types under dbswitch's.
    ({ stdout: listed } = await run(process.execPath, [join(consumer, 'node_modules/typescript/bin/tsc'), '-p', dir, '--listFiles'], { cwd: dir, timeout: 150_000 }));
  } catch (err) {
    const output = ((err as { stdout?: string }).stdout ?? '').split('\n').filter((line) => !line.startsWith('/'));
    throw new Error(`${folder} does not compile against the published package: ${String(err)}\n${output.join('\n')}`);
  }
  writeFileSync(join(dir, 'dist', 'runtime.mjs'), RUNTIME);
  return { dist: join(dir, 'dist'), programFiles: listed.split('\n').filter(Boolean) };
}

/**
 * Starts an execution environment for `exportName` of `module` (a compiled .js file beside the
 * runtime) with `env` as its whole DB_* / SSH_* configuration, in an empty working folder;
 * resolves once INIT is done. The INIT's `handles` must be empty too (checked by the caller via `initHandles`).
 */
export async function startEnvironment(
  module: string,
  env: Record<string, string>,
  exportName = 'handler',
): Promise<LambdaEnvironment & { readonly initHandles: string[] }> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(DB_|SSH_|AWS_|NODE_ENV$)/.test(name)));
  const cwd = mkdtempSync(join(tmpdir(), 'dbswitch-lambda-'));
  const child: ChildProcess = spawn(process.execPath, [join(module, '..', 'runtime.mjs'), module, exportName], {
    cwd,
    env: { ...inherited, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  let buffered = '';
  let endedAt: number | undefined;
  const replies: unknown[] = [];
  const waiters: ((reply: unknown) => void)[] = [];
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
      const reply = JSON.parse(buffered.slice(0, nl)) as { end?: boolean };
      buffered = buffered.slice(nl + 1);
      if (reply.end === true) {
        endedAt = Date.now();
        continue;
      }
      const waiter = waiters.shift();
      if (waiter !== undefined) waiter(reply);
      else replies.push(reply);
    }
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), LIFETIME_MS);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => {
    child.once('exit', (code, signal) => {
      clearTimeout(killer);
      rmSync(cwd, { recursive: true, force: true });
      resolve({ code, signal, at: Date.now() });
    });
  });
  const next = <T>(): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (replies.length > 0) {
        resolve(replies.shift() as T);
        return;
      }
      const timer = setTimeout(() => {
        reject(new Error(`the Lambda runtime gave no reply within ${REPLY_TIMEOUT_MS} ms; stderr:\n${stderr}`));
      }, REPLY_TIMEOUT_MS);
      waiters.push((reply) => {
        clearTimeout(timer);
        resolve(reply as T);
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`the Lambda runtime exited; stderr:\n${stderr}`));
      });
    });
  const send = (event: unknown, timeoutMs = 3000): void => {
    child.stdin?.write(`${JSON.stringify({ event, timeoutMs })}\n`);
  };
  const signal = (name: NodeJS.Signals): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
  };
  const { handles: initHandles } = await next<{ handles: string[] }>();
  return {
    pid: child.pid ?? 0,
    initHandles,
    invoke: (event, timeoutMs) => {
      send(event, timeoutMs);
      return next();
    },
    send,
    next,
    freeze: () => {
      signal('SIGSTOP');
    },
    thaw: () => {
      signal('SIGCONT');
    },
    end: () => {
      child.stdin?.end();
    },
    exited,
    endedAt: () => endedAt,
    stderr: () => stderr,
    stop: async () => {
      signal('SIGCONT');
      signal('SIGKILL');
      await exited;
    },
  };
}
