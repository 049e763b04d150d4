// closeOnSignals(db) as an application uses it: a script on the published package, sessions
// running under load, a SIGTERM from outside. In-flight statements finish (or are cancelled on
// the server after pool.closeTimeoutMs), new sessions get ECLOSED, the process exits by itself
// with code 0 within the bound and leaves nothing on the server; over basic and ssh.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useBastion } from '../support/bastion.js';
import { consumerProject } from '../support/consumer-project.js';
import { faultEnv, PROVIDERS, processlist, sharedServer, sleep, useFaultLogin, waitForStatements, type Provider } from '../support/faults.js';
import { eventually } from '../support/test-db.js';

/**
 * WORKERS loops, each a session per `SELECT SLEEP(SLEEP_SECONDS)` until the Db refuses with
 * ECLOSED (at most 1000 rounds); a ref'd interval stands for what else an application keeps
 * open (a server), closed through `also` unless NO_ALSO. At exit it prints every outcome with
 * its time.
 */
const SCRIPT = `import { closeOnSignals, createDb } from 'dbswitch';

const db = await createDb(); // DB_* from the environment
const ticker = setInterval(() => undefined, 1000);
const stop = closeOnSignals(db, process.env.NO_ALSO === '1' ? {} : { also: [() => clearInterval(ticker)] });
if (process.env.STOP_LISTENING === '1') stop();

const outcomes = [];
process.on('exit', (code) => {
  process.stdout.write('exit ' + JSON.stringify({ code, outcomes }) + '\\n');
});
const worker = async () => {
  for (let round = 0; round < 1000; round++) {
    try {
      await db.withSession((s) => s.query('SELECT SLEEP(?)', [Number(process.env.SLEEP_SECONDS)]));
      outcomes.push({ code: 'ok', at: Date.now() });
    } catch (err) {
      outcomes.push({ code: err.code ?? String(err), at: Date.now() });
      if (err.code === 'ECLOSED') return;
    }
  }
};
process.stdout.write('working\\n');
await Promise.all(Array.from({ length: Number(process.env.WORKERS) }, worker));
`;

const WORKERS = 4;
/** How long the process may take to exit beyond the statements' own time or the close bound. */
const EXIT_MARGIN_MS = 2000;

const login = useFaultLogin('shutdown', () => sharedServer);
const bastion = useBastion();

let script = '';
beforeAll(async () => {
  const dir = join(await consumerProject(), 'shutdown');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'shutdown', private: true, type: 'module' }));
  script = join(dir, 'app.mjs');
  writeFileSync(script, SCRIPT);
}, 300_000);

interface Outcome {
  readonly code: string;
  readonly at: number;
}

interface Run {
  /** Sends the signal; returns when. */
  signal(name: NodeJS.Signals): number;
  alive(): boolean;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number; outcomes: Outcome[]; stderr: string }>;
  stop(): Promise<void>;
}

const running = new Set<Run>();
afterEach(async () => {
  await Promise.all([...running].map((run) => run.stop()));
  running.clear();
  // What a test that exited at once (a second signal) left behind.
  for (const row of await processlist(sharedServer, login.user)) await sharedServer.admin(`KILL CONNECTION ${row.ID}`).catch(() => undefined);
});

/** Starts the script and waits until all its workers' statements run on the server. */
async function start(provider: Provider, sleepSeconds: number, env: Record<string, string>): Promise<Run> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(DB_|SSH_|AWS_)/.test(name)));
  const cwd = mkdtempSync(join(tmpdir(), 'dbswitch-shutdown-'));
  const child = spawn(process.execPath, [script], {
    cwd,
    env: { ...inherited, ...faultEnv(provider, sharedServer, login, bastion), WORKERS: String(WORKERS), SLEEP_SECONDS: String(sleepSeconds), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 40_000);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number; outcomes: Outcome[]; stderr: string }>((resolve) => {
    child.once('exit', (code, signal) => {
      const at = Date.now();
      clearTimeout(killer);
      rmSync(cwd, { recursive: true, force: true });
      // Let the pipe deliver the exit line.
      setImmediate(() => {
        const line = stdout.split('\n').find((text) => text.startsWith('exit '));
        const outcomes = line === undefined ? [] : (JSON.parse(line.slice('exit '.length)) as { outcomes: Outcome[] }).outcomes;
        resolve({ code, signal, at, outcomes, stderr });
      });
    });
  });
  const run: Run = {
    signal: (name) => {
      child.kill(name);
      return Date.now();
    },
    alive: () => child.exitCode === null && child.signalCode === null,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  running.add(run);
  await waitForStatements(sharedServer, login.user, 'SELECT SLEEP', WORKERS, 10_000);
  return run;
}

function codes(outcomes: readonly Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { code } of outcomes) counts[code] = (counts[code] ?? 0) + 1;
  return counts;
}

async function nothingOnServer(): Promise<boolean> {
  return eventually(async () => (await processlist(sharedServer, login.user)).length === 0, 3000);
}

describe.each(PROVIDERS)('over %s', (provider) => {
  it('SIGTERM under load: the statements in flight finish, new sessions get ECLOSED, exit code 0, nothing left on the server', async () => {
    const run = await start(provider, 1, { DB_POOL_CLOSE_TIMEOUT_MS: '5000' });
    await sleep(200);
    const signalledAt = run.signal('SIGTERM');
    const exit = await run.exited;
    expect(exit).toMatchObject({ code: 0, signal: null, stderr: '' });
    // Each statement runs 1 s: the ones in flight at the signal are done by then.
    expect(exit.at - signalledAt).toBeLessThan(1000 + EXIT_MARGIN_MS);
    const after = exit.outcomes.filter((outcome) => outcome.at >= signalledAt);
    expect(codes(after)).toEqual({ ok: WORKERS, ECLOSED: WORKERS });
    expect(await nothingOnServer()).toBe(true);
  });

  it('SIGTERM with statements longer than pool.closeTimeoutMs: cancelled on the server at the bound, exit code 0', async () => {
    const closeTimeoutMs = 1000;
    const run = await start(provider, 30, { DB_POOL_CLOSE_TIMEOUT_MS: String(closeTimeoutMs) });
    const signalledAt = run.signal('SIGTERM');
    const exit = await run.exited;
    expect(exit).toMatchObject({ code: 0, signal: null, stderr: '' });
    expect(exit.at - signalledAt).toBeGreaterThanOrEqual(closeTimeoutMs);
    expect(exit.at - signalledAt).toBeLessThan(closeTimeoutMs + EXIT_MARGIN_MS);
    // The cancelled statements' callers hear ECLOSED (and stop), none before the bound.
    expect(codes(exit.outcomes)).toEqual({ ECLOSED: WORKERS });
    for (const outcome of exit.outcomes) expect(outcome.at - signalledAt).toBeGreaterThanOrEqual(closeTimeoutMs);
    expect(await nothingOnServer()).toBe(true);
  });
});

describe('over basic', () => {
  it('a second signal during the shutdown exits at once (128 + the signal number)', async () => {
    const run = await start('basic', 30, { DB_POOL_CLOSE_TIMEOUT_MS: '10000' });
    run.signal('SIGTERM');
    await sleep(300);
    const secondAt = run.signal('SIGINT');
    const exit = await run.exited;
    expect(exit.code).toBe(130);
    expect(exit.at - secondAt).toBeLessThan(500);
  });

  it('after the Db closed, the listeners are gone: what else keeps the process alive decides, and the next signal ends it', async () => {
    // No `also`: the interval keeps the process alive after the Db closed.
    const run = await start('basic', 1, { NO_ALSO: '1' });
    run.signal('SIGTERM');
    const sessionsEnded = await eventually(async () => (await processlist(sharedServer, login.user)).length === 0, 5000);
    expect(sessionsEnded).toBe(true);
    await sleep(500);
    expect(run.alive()).toBe(true);
    const secondAt = run.signal('SIGTERM');
    const exit = await run.exited;
    // Node's own default again: killed by the signal.
    expect(exit).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(exit.at - secondAt).toBeLessThan(500);
  });

  it('the function it returns stops listening: SIGTERM then ends the process as Node does by default', async () => {
    const run = await start('basic', 30, { STOP_LISTENING: '1' });
    const signalledAt = run.signal('SIGTERM');
    const exit = await run.exited;
    expect(exit).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(exit.at - signalledAt).toBeLessThan(500);
  });
});
