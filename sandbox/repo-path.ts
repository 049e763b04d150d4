import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A path in this repository, found the same way from the sandbox's sources (as the tests run
 * them) and from build/sandbox (as the demo and the benchmarks run them).
 */
export function repoPath(relative: string): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'dbswitch') return join(dir, relative);
    if (dirname(dir) === dir) throw new Error(`the dbswitch repository is not above ${fileURLToPath(import.meta.url)}`);
  }
}
