import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

/**
 * Runs `body` as an ES module in a fresh Node process with `createDb` imported from the built
 * package and `env` as its dbswitch settings; returns its exit code, its stdout and when it
 * printed `marker`. Killed after 15 s.
 */
export async function runScript(body: string, env: Record<string, string>, marker = 'released'): Promise<{ code: number | null; stdout: string; markedAt: number }> {
  const script = `const { createDb } = await import(${JSON.stringify(DIST)});
const db = await createDb({ env: JSON.parse(process.env.TEST_ENV), cwd: process.env.TEST_CWD });
${body}`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, TEST_ENV: JSON.stringify(env), TEST_CWD: process.cwd() },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  let markedAt = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (markedAt === 0 && stdout.includes(marker)) markedAt = Date.now();
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(killer);
  return { code, stdout, markedAt };
}
