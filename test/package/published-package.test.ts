import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { consumerProject } from '../support/consumer-project.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../..', import.meta.url));

let consumer = '';
beforeAll(async () => {
  consumer = await consumerProject();
}, 300_000);

/** Compiles `files` (name -> text) as a project of its own with `tsconfig`; returns tsc's output. */
async function compile(name: string, packageJson: object, tsconfig: object, files: Record<string, string>): Promise<string> {
  const dir = join(consumer, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify(packageJson));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ ...tsconfig, files: Object.keys(files) }));
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  try {
    await run(process.execPath, [join(consumer, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir });
    return '';
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? err);
  }
}

const USAGE = `import { createDb, DbSwitchError, type RowDataPacket, type ResultSetHeader, type FieldPacket } from 'dbswitch';
export async function main(): Promise<number> {
  const db = await createDb();
  try {
    const [rows]: [RowDataPacket[], FieldPacket[]] = await db.withSession((s) => s.query<RowDataPacket[]>('SELECT ? AS x', [1]));
    const [header] = await db.withSession((s) => s.transaction((tx) => tx.execute<ResultSetHeader>('DELETE FROM t'), { isolationLevel: 'READ COMMITTED' }));
    return rows.length + header.affectedRows;
  } catch (err) {
    if (err instanceof DbSwitchError && err.code === 'ETIMEOUT') return -1;
    throw err;
  } finally {
    await db.close();
  }
}
`;

describe('the package as npm pack ships it', () => {
  it('holds the library, the CLI and the types only: no sandbox, no demo, no install script', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO });
    const [{ files }] = JSON.parse(stdout) as [{ files: { path: string }[] }];
    const paths = files.map((file) => file.path);
    expect(paths).toContain('dist/index.js');
    expect(paths).toContain('dist/index.d.ts');
    expect(paths).toContain('dist/bin/dbswitch.js');
    for (const path of paths) expect(path).toMatch(/^(dist\/|package\.json$|README\.md$|LICENSE$)/);
    expect(paths.filter((path) => /testbed|sandbox|demo|install-system-deps/.test(path))).toEqual([]);
    const code = paths.filter((path) => path.endsWith('.js')).map((path) => readFileSync(join(REPO, path), 'utf8'));
    for (const text of code) expect(text).not.toMatch(/apt-get|\/etc\/pam\.d/);
  });

  it('compiles for an ESM consumer under strict, exactOptionalPropertyTypes and skipLibCheck: false', async () => {
    const tsconfig = {
      compilerOptions: { strict: true, exactOptionalPropertyTypes: true, skipLibCheck: false, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, types: ['node'] },
    };
    expect(await compile('esm-strict', { type: 'module' }, tsconfig, { 'app.ts': USAGE })).toBe('');
  });

  it('compiles for a CommonJS consumer under strict and skipLibCheck: false (module nodenext)', async () => {
    const tsconfig = { compilerOptions: { strict: true, skipLibCheck: false, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, types: ['node'] } };
    expect(await compile('cjs-strict', { type: 'commonjs' }, tsconfig, { 'app.ts': USAGE })).toBe('');
  });

  it('compiles for a CommonJS consumer with classic resolution under strict and skipLibCheck: false', async () => {
    // moduleResolution node (node10) reads no exports maps: the types must not need a package
    // that only has one (inversify is bundled, and the public types carry no trace of it).
    const tsconfig = { compilerOptions: { strict: true, skipLibCheck: false, module: 'commonjs', moduleResolution: 'node', target: 'es2021', noEmit: true, types: ['node'] } };
    expect(await compile('cjs-node10', { type: 'commonjs' }, tsconfig, { 'app.ts': USAGE })).toBe('');
  });

  it("compiles for a CommonJS consumer with NestJS's usual tsconfig (module commonjs)", async () => {
    const tsconfig = {
      compilerOptions: {
        module: 'commonjs', declaration: true, removeComments: true, emitDecoratorMetadata: true, experimentalDecorators: true,
        allowSyntheticDefaultImports: true, target: 'ES2021', sourceMap: true, outDir: './out', skipLibCheck: true, strictNullChecks: false, noImplicitAny: false, types: ['node'],
      },
    };
    expect(await compile('cjs-nest', { type: 'commonjs' }, tsconfig, { 'app.ts': USAGE })).toBe('');
  });

  it('is importable from ESM and requirable from CommonJS, and opens nothing on import', async () => {
    // Sockets, pipes and timers; Node's ESM loader may leave a file close pending (CloseReq).
    const probe = `const open = () => process.getActiveResourcesInfo().filter((kind) => /TCP|Pipe|Timeout|Immediate|Interval/.test(kind));
const before = open();
const dbswitch = %LOAD%;
const after = open();
const opened = after.filter((kind, i) => before[i] !== kind);
console.log(JSON.stringify({ createDb: typeof dbswitch.createDb, error: new dbswitch.DbSwitchError('ECONFIG', 'x').code, opened }));`;
    const expected = { createDb: 'function', error: 'ECONFIG', opened: [] };
    const esm = await run(process.execPath, ['--input-type=module', '-e', probe.replace('%LOAD%', "await import('dbswitch')")], { cwd: consumer });
    expect(JSON.parse(esm.stdout)).toEqual(expected);
    const cjs = await run(process.execPath, ['-e', probe.replace('%LOAD%', "require('dbswitch')")], { cwd: consumer });
    expect(JSON.parse(cjs.stdout)).toEqual(expected);
  });

  it('exports every public name DESIGN.md lists, and the error codes it lists', async () => {
    const design = readFileSync(join(REPO, '..', 'shared', 'DESIGN.md'), 'utf8');
    const importLine = /import \{([^}]+)\} from 'dbswitch';/.exec(design)?.[1] ?? '';
    const names = importLine.split(',').map((name) => name.trim()).filter(Boolean);
    expect(names).toEqual(expect.arrayContaining(['createDb', 'loadConfig', 'DbSwitchError', 'DbProvider']));
    const codes = [...(/Errors are `DbSwitchError`s[\s\S]*?\(([^)]*)\)/.exec(design)?.[1] ?? '').matchAll(/`(E[A-Z_]+)`/g)].map((match) => match[1]);
    expect(codes.length).toBeGreaterThan(10);
    const probe = `const m = await import('dbswitch');
console.log(JSON.stringify({ names: Object.keys(m), codes: Object.keys(m.ERROR_CODES), runCli: typeof m.runCli, Db: typeof m.Db }));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe], { cwd: consumer });
    const surface = JSON.parse(stdout) as { names: string[]; codes: string[]; runCli: string; Db: string };
    expect(surface.names).toEqual(expect.arrayContaining(names));
    expect(surface.codes).toEqual(expect.arrayContaining(codes));
    expect(surface).toMatchObject({ runCli: 'function', Db: 'function' });
  });
});
