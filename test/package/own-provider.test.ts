import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { consumerProject } from '../support/consumer-project.js';
import { basicEnv, useDatabase } from '../support/test-db.js';

const run = promisify(execFile);
const database = useDatabase('own_provider');

/**
 * What the README's "Your own provider" section shows: a provider and a CLI of the application's
 * own, written against `dbswitch` alone (no src/ import), compiled under strict settings.
 */
const PROVIDER = `import { connect } from 'node:net';
import {
  CONFIG, DbProvider, connectOverStream, createDb, directEndpoint, runCli,
  type Container, type DbSwitchConfig, type ProvidedConnection, type RouteHop, type ToolEndpoint,
} from 'dbswitch';

/** Reaches the database over TCP, counting the connections it opens. */
export class CountingProvider extends DbProvider {
  static opened = 0;
  readonly #config: DbSwitchConfig;

  constructor(config: DbSwitchConfig) {
    super();
    this.#config = config;
  }

  connect(): Promise<ProvidedConnection> {
    CountingProvider.opened++;
    const { host, port } = this.#config.db;
    return connectOverStream(connect(port, host), this.#config);
  }

  route(): readonly RouteHop[] {
    return [{ name: 'database (counting provider)', address: \`\${this.#config.db.host}:\${this.#config.db.port}\` }];
  }

  toolEndpoint(): Promise<ToolEndpoint> {
    return Promise.resolve(directEndpoint(this.#config));
  }
}

const configure = (container: Container): void => {
  container.rebind(DbProvider).toDynamicValue(({ get }) => new CountingProvider(get(CONFIG))).inSingletonScope();
};

if (process.argv[2] === 'sessions') {
  const db = await createDb({ configure });
  const ids = new Set<unknown>();
  for (let i = 0; i < 3; i++) {
    const [rows] = await db.withSession((s) => s.query('SELECT CONNECTION_ID() AS id'));
    ids.add((rows as { id: unknown }[])[0]?.id);
  }
  await db.close();
  console.log(JSON.stringify({ opened: CountingProvider.opened, connections: ids.size }));
} else {
  process.exitCode = await runCli(process.argv.slice(2), { configure });
}
`;

let cli = '';
beforeAll(async () => {
  const consumer = await consumerProject();
  const dir = join(consumer, 'own-provider');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(join(dir, 'my-db.ts'), PROVIDER);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, exactOptionalPropertyTypes: true, skipLibCheck: false, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', outDir: '.', types: ['node'] },
      files: ['my-db.ts'],
    }),
  );
  await run(process.execPath, [join(consumer, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir });
  cli = join(dir, 'my-db.js');
}, 300_000);

const env = (): Record<string, string> => ({ PATH: process.env['PATH'] ?? '', ...basicEnv(database) });

describe('a provider written against the published package alone', () => {
  it('serves sessions: one connection opened by the provider, reused', async () => {
    const { stdout } = await run(process.execPath, [cli, 'sessions'], { env: env() });
    expect(JSON.parse(stdout)).toEqual({ opened: 1, connections: 1 });
  });

  it('runs check through the same CLI, reporting its own route', async () => {
    const { stdout } = await run(process.execPath, [cli, 'check', '--json'], { env: env() });
    const report = JSON.parse(stdout) as { ok: boolean; route: { name: string }[]; transport: { kind: string } };
    expect(report.ok).toBe(true);
    expect(report.route[0]?.name).toBe('database (counting provider)');
    expect(report.transport.kind).toBe('tcp');
  });

  it('runs exec, handing the command the endpoint the provider names', async () => {
    // No host or port on the command line: MYSQL_HOST and MYSQL_TCP_PORT, set by exec, decide.
    const { stdout } = await run(process.execPath, [cli, 'exec', '--', 'sh', '-c', 'mariadb -u "$DB_USER" -N -e "SELECT DATABASE(), @@port" "$DB_NAME"'], { env: env() });
    expect(stdout.trim().split(/\s+/)).toEqual([database, basicEnv(database)['DB_PORT']]);
  });
});
