// NestJS projects in the consumer project (compiled as a user's CommonJS project is), run as
// child processes, and a bounded HTTP load against them: for test/frameworks/nestjs*.test.ts.
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { processlist, sharedServer, sleep } from './faults.js';

const run = promisify(execFile);

/** The tsconfig `nest new` writes (Nest CLI 11, CommonJS): decorators and their metadata, loose checks. */
export const NEST_TSCONFIG = {
  compilerOptions: {
    module: 'commonjs', declaration: true, removeComments: true, emitDecoratorMetadata: true, experimentalDecorators: true,
    allowSyntheticDefaultImports: true, target: 'ES2023', sourceMap: true, outDir: './dist', baseUrl: './', incremental: true,
    skipLibCheck: true, strictNullChecks: true, forceConsistentCasingInFileNames: true, noImplicitAny: false,
    strictBindCallApply: false, noFallthroughCasesInSwitch: false, types: ['node'],
  },
  include: ['src'],
};

/**
 * Writes a project (`files`: path -> text, under `name/` of the consumer project, a CommonJS
 * package; `tsconfig` as an object, or the text of a tsconfig.json) and compiles it with the consumer project's TypeScript; throws with tsc's output when
 * it does not compile. Returns the project's folder.
 */
export async function compileNestProject(consumer: string, name: string, tsconfig: object | string, files: Record<string, string>): Promise<string> {
  const dir = join(consumer, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
  writeFileSync(join(dir, 'tsconfig.json'), typeof tsconfig === 'string' ? tsconfig : JSON.stringify(tsconfig));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  try {
    await run(process.execPath, [join(consumer, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir, timeout: 60_000 });
  } catch (err) {
    throw new Error(`${name} does not compile against the published package:\n${String((err as { stdout?: string }).stdout ?? err)}`);
  }
  return dir;
}

/** How an application's process ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly at: number;
}

/** A NestJS application running as a child process. */
export interface NestApp {
  readonly port: number;
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<Exit>;
  /** Sends a signal to the process. */
  signal(signal: NodeJS.Signals): void;
  /** SIGKILL if it still runs; waits for the exit. For afterAll. */
  kill(): Promise<void>;
}

/** The longest an application may live: it is killed after this, whatever the test does. */
const APP_LIFETIME_MS = 150_000;

/**
 * Starts `script` with node in its folder with `env` as its whole dbswitch configuration (none of
 * the test process's own DB_* / SSH_* / AWS_*), plain log lines (NO_COLOR), PORT=0; resolves when
 * its stdout matches `ready` (whose first group is the port).
 */
export async function startNestApp(script: string, env: Record<string, string>, ready = /\{"port":(\d+)\}/): Promise<NestApp> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(DB_|SSH_|AWS_|NODE_ENV$|PORT$)/.test(name)));
  const child = spawn(process.execPath, [script], {
    cwd: dirname(script),
    env: { ...inherited, NO_COLOR: '1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lifetime = setTimeout(() => child.kill('SIGKILL'), APP_LIFETIME_MS);
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      clearTimeout(lifetime);
      resolve({ code, signal, at: Date.now() });
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    const deadline = setTimeout(() => {
      finish();
      reject(new Error(`the application did not start within 20 s:\n${stdout}\n${stderr}`));
    }, 20_000);
    const onData = (): void => {
      const match = ready.exec(stdout);
      if (match !== null) {
        finish();
        resolve(Number(match[1]));
      }
    };
    const onExit = (): void => {
      finish();
      reject(new Error(`the application exited before listening:\n${stdout}\n${stderr}`));
    };
    const finish = (): void => {
      clearTimeout(deadline);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout.on('data', onData);
    child.once('exit', onExit);
  }).catch(async (err: unknown) => {
    child.kill('SIGKILL');
    await exited;
    throw err;
  });
  return {
    port,
    pid: child.pid ?? 0,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    signal: (signal) => child.kill(signal),
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** How one request ended, as the client saw it. */
export type Reply =
  | { readonly kind: 'answered'; readonly status: number; readonly body: string }
  | { readonly kind: 'aborted'; /** When the client closed the connection (epoch ms). */ readonly at: number }
  | { readonly kind: 'failed'; readonly error: string };

/**
 * GET `path` on 127.0.0.1:`port`. With `abortAfterMs`, the client closes the connection then if
 * no response came yet (as a browser tab closed mid-request does). Bounded by `timeoutMs`.
 */
export function get(port: number, path: string, options: { agent?: http.Agent; abortAfterMs?: number; timeoutMs?: number } = {}): Promise<Reply> {
  const { agent, abortAfterMs, timeoutMs = 15_000 } = options;
  return new Promise<Reply>((resolve) => {
    let aborted = false;
    const timers: NodeJS.Timeout[] = [];
    const done = (reply: Reply): void => {
      for (const timer of timers) clearTimeout(timer);
      resolve(reply);
    };
    const req = http.get({ host: '127.0.0.1', port, path, ...(agent === undefined ? {} : { agent }) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        done({ kind: 'answered', status: res.statusCode ?? 0, body });
      });
      res.on('error', (err) => {
        done({ kind: 'failed', error: err.message });
      });
    });
    req.on('error', (err) => {
      if (!aborted) done({ kind: 'failed', error: err.message });
    });
    if (abortAfterMs !== undefined) {
      timers.push(
        setTimeout(() => {
          aborted = true;
          req.destroy();
          done({ kind: 'aborted', at: Date.now() });
        }, abortAfterMs),
      );
    }
    timers.push(
      setTimeout(() => {
        req.destroy();
        done({ kind: 'failed', error: `no answer within ${timeoutMs} ms` });
      }, timeoutMs),
    );
  });
}

/** Runs `total` requests, `concurrency` at a time; `request(i)` makes the i-th. Returns the replies by index. */
export async function load<T>(total: number, concurrency: number, request: (i: number) => Promise<T>): Promise<T[]> {
  const replies = new Array<T>(total);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      replies[i] = await request(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return replies;
}

/** One sighting of a running statement in the processlist. */
export interface Sighting {
  readonly info: string;
  /** When the processlist answered (epoch ms). */
  readonly at: number;
  /** How long the statement had run then. */
  readonly ms: number;
}

/** What the server showed of one user's connections while sampled. */
export interface ServerSample {
  /** The most connections the user held at once. */
  readonly mostConnections: number;
  /** Every sighting of a statement starting with the prefix. */
  readonly sightings: readonly Sighting[];
  readonly samples: number;
}

/**
 * Samples information_schema.PROCESSLIST for `user` every 20 ms until stop() (bounded: it
 * ends by itself after `limitMs`): the most connections at once, and each sighting of a
 * statement starting with `prefix`.
 */
export function sampleServer(user: string, prefix: string, limitMs = 60_000): { stop: () => Promise<ServerSample> } {
  const state = { mostConnections: 0, samples: 0, running: true };
  const sightings: Sighting[] = [];
  const deadline = Date.now() + limitMs;
  const loop = (async (): Promise<void> => {
    while (state.running && Date.now() < deadline) {
      const rows = await processlist(sharedServer, user);
      const at = Date.now();
      state.samples++;
      state.mostConnections = Math.max(state.mostConnections, rows.length);
      for (const row of rows) {
        // TIME_MS is a DECIMAL, which mysql2 hands over as a string.
        if (row.INFO?.startsWith(prefix) === true) sightings.push({ info: row.INFO, at, ms: parseFloat(String(row.TIME_MS)) });
      }
      await sleep(20);
    }
  })();
  return {
    async stop() {
      state.running = false;
      await loop;
      return { mostConnections: state.mostConnections, sightings, samples: state.samples };
    },
  };
}

/** The application's /stats: the pool's figures and the sessions the integration made and ended. */
export interface AppStats {
  readonly pool: { open: number; idle: number; leased: number; waiting: number };
  readonly sessions: { created: number; endedOnce: number; endedAgain: number; released: number; aborted: number };
  readonly sleeps: Record<string, number>;
  readonly slowestSleepMs: number;
  readonly working: number;
  /** Requests the application received, by path. */
  readonly received: Record<string, number>;
  /** When the application aborted the session of /sleep?id=n (epoch ms), by n. */
  readonly abortedAt: Record<string, number>;
}

export async function stats(port: number): Promise<AppStats> {
  const reply = await get(port, '/stats');
  if (reply.kind !== 'answered' || reply.status !== 200) throw new Error(`/stats failed: ${JSON.stringify(reply)}`);
  return JSON.parse(reply.body) as AppStats;
}
