import { connect, createServer, type Server, type Socket } from 'node:net';
import type { RowDataPacket } from 'mysql2';
import { afterEach, describe, expect, it } from 'vitest';
import { connectOverStream, directEndpoint, DbProvider, type DbSwitchConfig, type ProvidedConnection, type RouteHop, type ToolEndpoint } from '../../src/index.js';
import { CONFIG } from '../../src/index.js';
import { openDb } from '../support/test-db.js';

/** A provider of an application's own: counts the connections it opens. */
class CountingProvider extends DbProvider {
  static opened = 0;
  readonly #config: DbSwitchConfig;

  constructor(config: DbSwitchConfig) {
    super();
    this.#config = config;
  }

  connect(): Promise<ProvidedConnection> {
    CountingProvider.opened++;
    return connectOverStream(connect(this.#config.db.port, this.#config.db.host), this.#config);
  }

  route(): readonly RouteHop[] {
    return [{ name: 'database', address: `${this.#config.db.host}:${this.#config.db.port}` }];
  }

  toolEndpoint(): Promise<ToolEndpoint> {
    return Promise.resolve(directEndpoint(this.#config));
  }
}

let silent: Server | undefined;
const accepted: Socket[] = [];
afterEach(async () => {
  for (const socket of accepted.splice(0)) socket.destroy();
  const server = silent;
  silent = undefined;
  if (server !== undefined) await new Promise((resolve) => server.close(resolve));
});

describe('providers', () => {
  it('lets an application rebind DbProvider to its own class', async () => {
    const db = await openDb('app', {}, { configure: (container) => container.rebind(DbProvider).toDynamicValue((context) => new CountingProvider(context.get(CONFIG))).inSingletonScope() });
    await db.withSession((s) => s.query('SELECT 1'));
    expect(CountingProvider.opened).toBe(1);
  });

  it('uses the configured character set', async () => {
    const db = await openDb('app', { DB_CHARSET: 'latin1' });
    const [[row]] = await db.withSession((s) => s.query<RowDataPacket[]>('SELECT @@character_set_client AS cs'));
    expect(row?.['cs']).toBe('latin1');
  });

  // Regression: an unknown charset was reported as "cannot connect ... check DB_HOST and DB_PORT".
  it('names DB_CHARSET when the character set is unknown, and leaves no socket open', async () => {
    const db = await openDb('app', { DB_CHARSET: 'klingon' });
    const err = await db.withSession((s) => s.query('SELECT 1')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ECONFIG' });
    expect((err as Error).message).toMatch(/^db\.charset \(DB_CHARSET\): Unknown charset 'klingon'/);
    expect((err as Error).message).not.toContain('DB_HOST');
    expect(db.stats).toMatchObject({ open: 0, opening: 0 });
  });

  it('gives up on a server that accepts but never answers, after DB_CONNECT_TIMEOUT_MS', async () => {
    silent = createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => silent?.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const db = await openDb('app', { DB_PORT: String(port), DB_CONNECT_TIMEOUT_MS: '200' });
    const started = Date.now();
    const err = await db.withSession((s) => s.query('SELECT 1')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ECONNECT' });
    expect((err as Error).message).toContain('DB_CONNECT_TIMEOUT_MS');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
