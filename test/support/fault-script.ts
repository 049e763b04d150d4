import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

/** How a script ended. */
export interface ScriptExit {
  /** null when it was killed (by a signal, or at its time limit). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** When it exited (epoch ms). */
  readonly exitedAt: number;
}

/** A script running in a child process. */
export interface RunningScript {
  /** Resolves with the first match of `pattern` in stdout; rejects when the script exits or `timeoutMs` passes first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<{ match: RegExpMatchArray; at: number }>;
  /** Writes a line to the script's stdin (read it with `nextLine()` in the script). */
  send(line: string): void;
  /** SIGKILL, if it still runs (a test that failed half-way). */
  kill(): void;
  readonly exited: Promise<ScriptExit>;
}

/**
 * Runs `body` as an ES module in a fresh Node process, with `createDb`, `DbSwitchError` and
 * `isDbSwitchError` imported from the built package, `env` (an object) holding the dbswitch
 * settings, `sleep(ms)` and `nextLine()` (the next line from stdin), in an empty working folder
 * (no config/, no .env). Its stderr is kept, not shown: an uncaught exception lands there.
 * Killed with SIGKILL after `timeoutMs`.
 */
export function startScript(body: string, env: Record<string, string>, options: { nodeArgs?: readonly string[]; timeoutMs?: number } = {}): RunningScript {
  const script = `const { createDb, DbSwitchError, isDbSwitchError } = await import(${JSON.stringify(DIST)});
const env = JSON.parse(process.env.TEST_ENV);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let stdinLines;
const nextLine = async () => {
  if (stdinLines === undefined) {
    const { createInterface } = await import('node:readline');
    stdinLines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  }
  const { value } = await stdinLines.next();
  return value;
};
void createDb; void DbSwitchError; void isDbSwitchError; void env; void sleep; void nextLine;
${body}`;
  const cwd = mkdtempSync(join(tmpdir(), 'dbswitch-fault-script-'));
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--input-type=module', '-e', script], {
    cwd,
    env: { ...process.env, TEST_ENV: JSON.stringify(env) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const exited = new Promise<ScriptExit>((resolve) => {
    child.once('exit', (code, signal) => {
      clearTimeout(killer);
      const exitedAt = Date.now();
      rmSync(cwd, { recursive: true, force: true });
      // Let the pipes drain what the script wrote last.
      setImmediate(() => {
        resolve({ code, signal, stdout, stderr, exitedAt });
      });
    });
  });
  let exitedYet = false;
  void exited.then(() => (exitedYet = true));
  return {
    exited,
    send(line) {
      child.stdin.write(`${line}\n`);
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    async waitFor(pattern, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(stdout);
        if (match !== null) return { match, at: Date.now() };
        if (exitedYet || Date.now() >= deadline) {
          throw new Error(`the script never printed ${String(pattern)}${exitedYet ? ' before it exited' : ''}; stdout:\n${stdout}\nstderr:\n${stderr}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}

/** Runs `body` (see {@link startScript}) to its end. */
export function runFaultScript(body: string, env: Record<string, string>, options: { nodeArgs?: readonly string[]; timeoutMs?: number } = {}): Promise<ScriptExit> {
  return startScript(body, env, options).exited;
}
