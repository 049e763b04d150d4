import { createServer, type Server, type Socket } from 'node:net';
import { inject, injectable } from 'inversify';
import type { RowDataPacket } from 'mysql2';
import { afterEach, describe, expect, it } from 'vitest';
import type { AwsServices } from '../../src/aws/aws-services.js';
import type { ConfigSource, DbSwitchConfig } from '../../src/config/config.js';
import type { ConnectionSettings } from '../../src/providers/connection-settings.js';
import { AWS_SERVICES, CONFIG, CONFIG_SOURCES, LOGGER } from '../../src/container/tokens.js';
import { DbProvider } from '../../src/db-provider.js';
import type { Logger } from '../../src/logging/create-logger.js';
import type { OpenedConnection } from '../../src/pool/pooled-connection.js';
import { BasicProvider } from '../../src/providers/basic/basic-provider.js';
import { openDb } from '../support/test-db.js';

/** A provider of an application's own: counts the connections it opens. */
@injectable()
class CountingProvider extends BasicProvider {
  static opened = 0;

  constructor(
    @inject(CONFIG) config: DbSwitchConfig,
    @inject(LOGGER) logger: Logger,
    @inject(AWS_SERVICES) aws: AwsServices,
    @inject(CONFIG_SOURCES) sources: ReadonlyMap<string, ConfigSource>,
  ) {
    super(config, logger, aws, sources);
  }

  protected override openConnection(settings: ConnectionSettings): Promise<OpenedConnection> {
    CountingProvider.opened++;
    return super.openConnection(settings);
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
    const db = await openDb('app', {}, { configure: (container) => container.rebind(DbProvider).to(CountingProvider).inSingletonScope() });
    await db.withSession((s) => s.query('SELECT 1'));
    expect(CountingProvider.opened).toBe(1);
  });

  it('uses the configured character set', async () => {
    const db = await openDb('app', { DB_CHARSET: 'latin1' });
    const [[row]] = await db.withSession((s) => s.query<RowDataPacket[]>('SELECT @@character_set_client AS cs'));
    expect(row?.['cs']).toBe('latin1');
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
