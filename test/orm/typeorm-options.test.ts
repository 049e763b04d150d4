// What dbswitch/mysql2's createPool (what TypeORM calls) keeps of an ORM's options, with no server.
import { describe, expect, it } from 'vitest';
import { statementSettings } from '../../src/driver/mysql2.js';
import { isDbSwitchError } from '../../src/errors.js';
import { createPoolCluster } from '../../src/integrations/mysql2/driver-module.js';
import { poolRequest, sharedPoolOptions } from '../../src/integrations/mysql2/orm-options.js';

/** The connection options TypeORM 1.1.1 builds (MysqlDriver#createConnectionOptions) for a DataSource without credentials. */
const TYPEORM_DEFAULTS = {
  charset: undefined,
  timezone: undefined,
  connectTimeout: undefined,
  insecureAuth: undefined,
  supportBigNumbers: true,
  bigNumberStrings: true,
  dateStrings: undefined,
  debug: undefined,
  trace: undefined,
  multipleStatements: undefined,
  flags: undefined,
  stringifyObjects: true,
  host: undefined,
  user: undefined,
  password: undefined,
  database: undefined,
  port: undefined,
  ssl: undefined,
  socketPath: undefined,
  connectionLimit: undefined,
};

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe("createPool's options (TypeORM's connection options)", () => {
  it("keeps TypeORM's statement options for the connections, and nothing of the route or the pool", () => {
    const request = poolRequest({ ...TYPEORM_DEFAULTS, host: 'db.example', port: 3307, user: 'root', password: 'x', connectionLimit: 3, database: 'shop', timezone: 'Z' });
    expect(request).toEqual({
      database: 'shop',
      charset: undefined,
      statementOptions: { supportBigNumbers: true, bigNumberStrings: true, stringifyObjects: true, timezone: 'Z' },
    });
    // As mysql2 normalizes them when it makes a connection.
    expect(statementSettings(request.statementOptions)).toEqual({ supportBigNumbers: true, bigNumberStrings: true, stringifyObjects: true, timezone: 'Z' });
  });

  it('refuses handshake options with EUSAGE naming them (dbswitch makes the handshake)', () => {
    const err = thrown(() => poolRequest({ ...TYPEORM_DEFAULTS, multipleStatements: true, flags: ['-FOUND_ROWS'] }));
    expect(isDbSwitchError(err, 'EUSAGE')).toBe(true);
    expect((err as Error).message).toContain('flags, multipleStatements');
  });

  it("a pool sharing an application's Db sends the statement options with each query, and refuses those mysql2 reads from the connection only", () => {
    expect(sharedPoolOptions(poolRequest({ ...TYPEORM_DEFAULTS, timezone: 'Z', dateStrings: true }))).toEqual({
      queryDefaults: { supportBigNumbers: true, bigNumberStrings: true, timezone: 'Z', dateStrings: true },
      timezone: 'Z',
    });
    const err = thrown(() => sharedPoolOptions(poolRequest({ decimalNumbers: true })));
    expect(isDbSwitchError(err, 'EUSAGE')).toBe(true);
    expect((err as Error).message).toContain('decimalNumbers');
  });

  it('createPoolCluster (TypeORM replication) is EUSAGE, saying why', () => {
    const err = thrown(() => createPoolCluster());
    expect(isDbSwitchError(err, 'EUSAGE')).toBe(true);
    expect((err as Error).message).toMatch(/replication is not supported through dbswitch/);
  });
});
