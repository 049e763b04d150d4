import { execFile } from 'node:child_process';

/**
 * Runs a program to completion and returns its output; on failure the error carries the
 * program's stderr, which is what a user needs to see (mariadb-install-db, openssl).
 */
export function runProgram(program: string, args: readonly string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      program,
      args,
      { cwd: options.cwd, timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`${program} ${args.join(' ')} failed: ${stderr.trim() || err.message}`, { cause: err }));
        } else {
          resolve(stdout);
        }
      },
    );
  });
}
