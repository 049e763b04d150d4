// Builds dist/: the type declarations with tsc, the JavaScript with esbuild.
//
// esbuild bundles the start-up path (dbswitch's own modules and inversify's ~200 small ESM files,
// which Node would otherwise resolve one by one: ~210 ms of a cold start) into a few files, with
// code splitting so every entry point shares one copy of each class (instanceof DbSwitchError
// holds across `dbswitch` and `dbswitch/express`). The other dependencies stay external: they are
// loaded from node_modules, some only when used (ssh2, the AWS SDK, the CLI's parser).
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

/** @type {unknown} */
const parsed = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const manifest = /** @type {{ dependencies?: Record<string, string>, peerDependencies?: Record<string, string>, devDependencies?: Record<string, string> }} */ (parsed);
// Bundled (devDependencies, so users do not install them): inversify and convict. pino stays
// external: it is loaded (with require) by the first log line actually written.
const bundled = new Set(['inversify', 'convict']);
const external = Object.keys(manifest.dependencies ?? {})
  .concat(Object.keys(manifest.peerDependencies ?? {}), Object.keys(manifest.devDependencies ?? {}))
  .filter((name) => !bundled.has(name));

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--emitDeclarationOnly'], { stdio: 'inherit' });

await build({
  entryPoints: {
    index: 'src/index.ts',
    'bin/dbswitch': 'src/bin/dbswitch.ts',
    // One entry per integration (package.json exports); they share the core's chunks.
    express: 'src/integrations/express/index.ts',
    nestjs: 'src/integrations/nestjs/index.ts',
    lambda: 'src/integrations/lambda/index.ts',
    mysql2: 'src/integrations/mysql2/index.ts',
    prisma: 'src/integrations/prisma/index.ts',
    knex: 'src/integrations/knex/index.ts',
  },
  outdir: 'dist',
  entryNames: '[dir]/[name]',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  sourcemap: true,
  // Not minified: it saved nothing measurable at start-up, and Node prints the source line of an
  // uncaught error, which in a minified chunk is the whole chunk.
  // Subpaths (mysql2/promise, @aws-sdk/...) of external packages stay external too.
  external: external.flatMap((name) => [name, `${name}/*`]),
  logLevel: 'warning',
  // Bundled CommonJS (convict) calls require() for Node's own modules.
  banner: { js: "import { createRequire as __dbswitchRequire } from 'node:module'; const require = __dbswitchRequire(import.meta.url);" },
});

// Not part of the package: the sandbox (private MariaDB, sshd, IAM checker, AWS stand-ins), the
// demo, and the IAM token checker that PAM runs as a Node script of its own for every login.
// The demo uses dbswitch through its package name, so it runs the dist/ built above.
await build({
  entryPoints: {
    'sandbox/index': 'sandbox/index.ts',
    'sandbox/demo': 'sandbox/demo.ts',
    'sandbox/iam-token-checker': 'sandbox/iam-token-checker.ts',
  },
  outdir: 'build',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  packages: 'external',
  logLevel: 'warning',
});
