import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

const BIN = fileURLToPath(new URL('../../dist/bin/dbswitch.js', import.meta.url));

/** A working folder without config/ or .env, removed after the file. */
export const cliCwd = mkdtempSync(join(tmpdir(), 'dbswitch-cli-'));
afterAll(() => { rmSync(cliCwd, { recursive: true, force: true }); });

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A running `dbswitch` with its output so far; `waitFor` resolves when stdout matches. */
export interface RunningCli {
  readonly child: ChildProcessWithoutNullStreams;
  readonly output: { stdout: string; stderr: string };
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<CliRun>;
}

/** Starts the built CLI as a user would, with only the given environment (and PATH). */
export function startCli(args: string[], env: Record<string, string>, timeoutMs = 30_000): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: cliCwd, env: { PATH: process.env['PATH'] ?? '', ...env } });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exited = new Promise<CliRun>((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, ...output });
    });
  });
  return {
    child,
    output,
    exited,
    async waitFor(pattern, waitMs = 15_000) {
      const deadline = Date.now() + waitMs;
      while (Date.now() < deadline && child.exitCode === null) {
        const match = pattern.exec(output.stdout);
        if (match !== null) return match;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const match = pattern.exec(output.stdout);
      if (match !== null) return match;
      throw new Error(`dbswitch never printed ${String(pattern)}; stdout:\n${output.stdout}\nstderr:\n${output.stderr}`);
    },
  };
}

/** Runs the built CLI to completion. */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 30_000): Promise<CliRun> {
  return startCli(args, env, timeoutMs).exited;
}
