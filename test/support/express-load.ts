// An Express application as a child process, and a bounded HTTP load against it, for
// test/frameworks/express.test.ts (and the example's test).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Compiles `source` (an application importing 'dbswitch', 'dbswitch/express' and 'express') in
 * a folder of the consumer project, as a user's ESM project under strict TypeScript would, with
 * `tsconfig` (default: strict, nodenext; skipLibCheck, as most projects have it, which saves
 * seconds: the example's own tsconfig checks the package's types with skipLibCheck false);
 * returns the compiled file's path.
 */
export async function compileApp(consumer: string, folder: string, source: string, tsconfig?: string): Promise<string> {
  const dir = join(consumer, folder);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: folder, private: true, type: 'module' }));
  copyFileSync(source, join(dir, 'app.ts'));
  if (tsconfig !== undefined) copyFileSync(tsconfig, join(dir, 'tsconfig.json'));
  else {
    const compilerOptions = {
      strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, skipLibCheck: true,
      module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: ['node'], rootDir: '.', outDir: 'dist',
    };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['app.ts'] }));
  }
  try {
    await run(process.execPath, [join(consumer, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir, timeout: 60_000 });
  } catch (err) {
    throw new Error(`${folder}/app.ts does not compile against the published package:\n${String((err as { stdout?: string }).stdout ?? err)}`);
  }
  return join(dir, 'dist/app.js');
}

/** The application's process: what it printed, and how it ended. */
export interface AppProcess {
  readonly port: number;
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal) and when it exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** SIGKILL if still running (for afterEach/afterAll); waits for the exit. */
  stop(): Promise<void>;
}

/** How long an application may run at most before it is killed (a bound for every test). */
const APP_LIFETIME_MS = 120_000;

/**
 * Starts `script` with node in `cwd` with `env` as its whole DB_* / SSH_* configuration (none of
 * the test process's own) and NODE_ENV=production (under NODE_ENV=test, Express logs no errors);
 * resolves once it prints `marker <port>` or `marker ...:<port>`.
 */
export async function startApp(script: string, cwd: string, env: Record<string, string>, marker = 'listening'): Promise<AppProcess> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(DB_|SSH_|AWS_|NODE_ENV$|PORT$)/.test(name)));
  const child = spawn(process.execPath, [script], { cwd, env: { ...inherited, NODE_ENV: 'production', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), APP_LIFETIME_MS);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => {
    child.once('exit', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, at: Date.now() });
    });
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  const pattern = new RegExp(`^${marker}\\D*?(?:[\\d.]+:)?(\\d+)\\s*$`, 'm');
  const deadline = Date.now() + 15_000;
  for (;;) {
    const port = pattern.exec(stdout)?.[1];
    if (port !== undefined) return { port: Number(port), child, stdout: () => stdout, stderr: () => stderr, exited, stop };
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the application did not start: exit ${String(child.exitCode)}\nstdout: ${stdout}\nstderr: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** How one request ended, as the client saw it. */
export interface Reply {
  readonly path: string;
  /** The HTTP status, or undefined when no response came. */
  readonly status: number | undefined;
  readonly body: string;
  /** The client gave up on purpose (`abortAfterMs`). */
  readonly aborted: boolean;
  /** A network error's code (ECONNREFUSED, ECONNRESET, ...), when no response came and the client did not abort. */
  readonly error: string | undefined;
  readonly sentAt: number;
  readonly doneAt: number;
}

/** Longest a single request may take before the client calls it hung (and gives up). */
const REQUEST_LIMIT_MS = 15_000;

/**
 * GET `path` on 127.0.0.1:`port` through `agent`; with `abortAfterMs`, the client closes the
 * connection after that long (as a browser does when its user navigates away).
 */
export function get(port: number, path: string, agent: http.Agent, abortAfterMs?: number): Promise<Reply> {
  const sentAt = Date.now();
  return new Promise<Reply>((resolve) => {
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const done = (reply: Omit<Reply, 'path' | 'sentAt' | 'doneAt'>): void => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      resolve({ path, sentAt, doneAt: Date.now(), ...reply });
    };
    const request = http.get({ host: '127.0.0.1', port, path, agent }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        done({ status: response.statusCode, body, aborted: false, error: undefined });
      });
      response.on('error', (err: NodeJS.ErrnoException) => {
        done({ status: response.statusCode, body, aborted: false, error: err.code ?? err.message });
      });
    });
    request.on('error', (err: NodeJS.ErrnoException) => {
      done({ status: undefined, body: '', aborted: false, error: err.code ?? err.message });
    });
    if (abortAfterMs !== undefined) {
      timers.push(
        setTimeout(() => {
          done({ status: undefined, body: '', aborted: true, error: undefined });
          request.destroy();
        }, abortAfterMs),
      );
    }
    timers.push(
      setTimeout(() => {
        done({ status: undefined, body: '', aborted: false, error: 'hang' });
        request.destroy();
      }, REQUEST_LIMIT_MS),
    );
  });
}

/** One request of a load: where, and whether the client aborts it after some ms. */
export interface PlannedRequest {
  readonly path: string;
  readonly abortAfterMs?: number;
}

/**
 * Sends `total` requests, `concurrency` at a time (each worker sends its next when its last one
 * ended), over keep-alive connections; `plan(i)` says what request i is. Stops early after
 * `limitMs`, or once a reply matches `until`. Returns every reply.
 */
export async function load(
  port: number,
  options: { total: number; concurrency: number; plan: (i: number) => PlannedRequest; limitMs?: number; until?: (reply: Reply) => boolean },
): Promise<Reply[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const deadline = Date.now() + (options.limitMs ?? 60_000);
  const replies: Reply[] = [];
  let next = 0;
  let stopped = false;
  try {
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (next < options.total && Date.now() < deadline && !stopped) {
          const { path, abortAfterMs } = options.plan(next++);
          const reply = await get(port, path, agent, abortAfterMs);
          replies.push(reply);
          if (options.until?.(reply) === true) stopped = true;
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  return replies;
}

/** Replies counted by outcome: `200`, `503`, `aborted`, `ECONNREFUSED`, ... */
export function tally(replies: readonly Reply[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const reply of replies) {
    const key = reply.aborted ? 'aborted' : reply.status !== undefined ? String(reply.status) : (reply.error ?? 'unknown');
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
