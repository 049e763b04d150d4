// dbswitch/prisma through Prisma's driver adapter contract (@prisma/driver-adapter-utils), against
// the shared MariaDB: column types and values beside the official @prisma/adapter-mariadb on the
// same rows, arguments, errors, transactions on one connection, a connection killed under a
// transaction, and dispose() leaving the Db open.
import { PrismaMariaDb } from '@prisma/adapter-mariadb';
import { ColumnTypeEnum, DriverAdapterError, type ArgType, type SqlDriverAdapter, type SqlQuery } from '@prisma/driver-adapter-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/db.js';
import { adapterError } from '../../src/integrations/prisma/driver-errors.js';
import { PrismaDbSwitch } from '../../src/integrations/prisma/index.js';
import { admin, eventually, openDb, sandbox, serverConnections, useDatabase } from '../support/test-db.js';

const database = useDatabase('prisma_adapter');

function sql(text: string, args: unknown[] = [], argTypes: ArgType[] = args.map(() => ({ scalarType: 'unknown', arity: 'scalar' }))): SqlQuery {
  return { sql: text, args, argTypes };
}

/** Rejects with the DriverAdapterError's payload (what Prisma turns into its P-codes). */
async function mappedError(work: Promise<unknown>): Promise<unknown> {
  try {
    await work;
  } catch (err) {
    return err instanceof DriverAdapterError ? err.cause : err;
  }
  throw new Error('expected a failure');
}

async function connected(db: Db): Promise<SqlDriverAdapter> {
  return new PrismaDbSwitch(db).connect();
}

beforeAll(async () => {
  await admin(`CREATE TABLE ${database}.types (
    id INT PRIMARY KEY, t_tiny TINYINT, t_bool TINYINT(1), t_small SMALLINT, t_medium MEDIUMINT, t_int INT, t_uint INT UNSIGNED,
    t_big BIGINT, t_ubig BIGINT UNSIGNED, t_year YEAR, t_float FLOAT, t_double DOUBLE, t_decimal DECIMAL(30,10),
    t_date DATE, t_datetime DATETIME(3), t_timestamp TIMESTAMP(6) NULL, t_time TIME(3),
    t_char CHAR(3), t_varchar VARCHAR(20), t_text TEXT, t_binary BINARY(4), t_varbinary VARBINARY(8), t_blob BLOB,
    t_json JSON, t_enum ENUM('a','b'), t_set SET('x','y'), t_bit BIT(8), t_uuid UUID, t_point POINT)`);
  await admin(`INSERT INTO ${database}.types VALUES (1, -5, 1, 300, 70000, -2147483648, 4294967295, 9007199254740993, 18446744073709551615,
    2024, 1.5, 2.25, '12345678901234567890.0123456789', '2024-02-29', '2024-02-29 12:34:56.789', '2024-02-29 12:34:56.789123', '12:34:56.789',
    'abc', 'héllo', 'long text', X'01020304', X'0506', X'0708', '{"a": [1, 2.50, 12345678901234567890]}', 'b', 'x,y', b'10100101',
    '123e4567-e89b-12d3-a456-426614174000', POINT(1, 2))`);
  await admin(`INSERT INTO ${database}.types (id) VALUES (2)`);
  await admin(`CREATE TABLE ${database}.parent (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(20) NOT NULL, UNIQUE KEY parent_email_key (email))`);
  await admin(`CREATE TABLE ${database}.child (id INT AUTO_INCREMENT PRIMARY KEY, parentId INT NOT NULL, small TINYINT,
    CONSTRAINT child_parentId_fkey FOREIGN KEY (parentId) REFERENCES ${database}.parent(id))`);
  await admin(`CREATE TABLE ${database}.args (id INT AUTO_INCREMENT PRIMARY KEY, big BIGINT, d DATE, t TIME(3), dt DATETIME(3), b VARBINARY(8), j JSON)`);
});

describe('results, as Prisma reads them', () => {
  const EXPECTED: Record<string, [number, unknown]> = {
    id: [ColumnTypeEnum.Int32, 1],
    t_tiny: [ColumnTypeEnum.Int32, -5],
    t_bool: [ColumnTypeEnum.Int32, 1],
    t_small: [ColumnTypeEnum.Int32, 300],
    t_medium: [ColumnTypeEnum.Int32, 70000],
    t_int: [ColumnTypeEnum.Int32, -2147483648],
    t_uint: [ColumnTypeEnum.Int64, 4294967295],
    t_big: [ColumnTypeEnum.Int64, '9007199254740993'],
    t_ubig: [ColumnTypeEnum.Int64, '18446744073709551615'],
    t_year: [ColumnTypeEnum.Int32, 2024],
    t_float: [ColumnTypeEnum.Float, 1.5],
    t_double: [ColumnTypeEnum.Double, 2.25],
    t_decimal: [ColumnTypeEnum.Numeric, '12345678901234567890.0123456789'],
    t_date: [ColumnTypeEnum.Date, '2024-02-29'],
    t_datetime: [ColumnTypeEnum.DateTime, '2024-02-29T12:34:56.789+00:00'],
    t_timestamp: [ColumnTypeEnum.DateTime, '2024-02-29T12:34:56.789+00:00'],
    t_time: [ColumnTypeEnum.Time, '12:34:56.789'],
    t_char: [ColumnTypeEnum.Text, 'abc'],
    t_varchar: [ColumnTypeEnum.Text, 'héllo'],
    t_text: [ColumnTypeEnum.Text, 'long text'],
    t_binary: [ColumnTypeEnum.Bytes, Buffer.from([1, 2, 3, 4])],
    t_varbinary: [ColumnTypeEnum.Bytes, Buffer.from([5, 6])],
    t_blob: [ColumnTypeEnum.Bytes, Buffer.from([7, 8])],
    // JSON as the server's text: no precision lost on 12345678901234567890, no 2.50 -> 2.5.
    t_json: [ColumnTypeEnum.Json, '{"a": [1, 2.50, 12345678901234567890]}'],
    t_enum: [ColumnTypeEnum.Enum, 'b'],
    t_set: [ColumnTypeEnum.Set, 'x,y'],
    t_bit: [ColumnTypeEnum.Bytes, Buffer.from([0b10100101])],
    t_uuid: [ColumnTypeEnum.Uuid, '123e4567-e89b-12d3-a456-426614174000'],
    t_point: [ColumnTypeEnum.Bytes, expect.any(Buffer)],
  };

  it('maps every column family to its Prisma column type and value; NULL stays null', async () => {
    const adapter = await connected(await openDb(database));
    const result = await adapter.queryRaw(sql('SELECT * FROM types ORDER BY id'));
    expect(result.columnNames).toEqual(Object.keys(EXPECTED));
    expect(Object.fromEntries(result.columnNames.map((name, i) => [name, [result.columnTypes[i], result.rows[0]?.[i]]]))).toEqual(EXPECTED);
    expect(result.rows[1]).toEqual([2, ...Array<null>(result.columnNames.length - 1).fill(null)]);
    expect(result.lastInsertId).toBeUndefined();
  });

  it('agrees with @prisma/adapter-mariadb on the same rows, except where MariaDB flags say more (ENUM, SET, UUID)', async () => {
    const ours = await (await connected(await openDb(database))).queryRaw(sql('SELECT * FROM types ORDER BY id'));
    const info = sandbox();
    const official = await new PrismaMariaDb({ host: '127.0.0.1', port: info.port, user: info.user, password: info.password, database }).connect();
    try {
      const theirs = await official.queryRaw(sql('SELECT * FROM types ORDER BY id'));
      expect(ours.columnNames).toEqual(theirs.columnNames);
      const differences = ours.columnNames.flatMap((name, i) => {
        const same = ours.columnTypes[i] === theirs.columnTypes[i] && JSON.stringify(ours.rows[0]?.[i]) === JSON.stringify(theirs.rows[0]?.[i]);
        return same ? [] : [`${name}: ${String(ours.columnTypes[i])} ${JSON.stringify(ours.rows[0]?.[i])} / ${String(theirs.columnTypes[i])} ${JSON.stringify(theirs.rows[0]?.[i])}`];
      });
      // Theirs: ENUM and UUID as Text, SET as Text holding an array; TIME with six digits from the binary protocol.
      expect(differences).toEqual([
        't_time: 9 "12:34:56.789" / 9 "12:34:56.789000"',
        't_enum: 12 "b" / 7 "b"',
        't_set: 14 "x,y" / 7 ["x","y"]',
        't_uuid: 15 "123e4567-e89b-12d3-a456-426614174000" / 7 "123e4567-e89b-12d3-a456-426614174000"',
      ]);
      expect(ours.rows[1]).toEqual(theirs.rows[1]);
    } finally {
      await official.dispose();
    }
  });

  it('reads expressions too: COUNT as Int64, NOW() in UTC ISO form, JSON functions as Json, parameters', async () => {
    const adapter = await connected(await openDb(database, { DB_INIT_SQL: "SET time_zone = '+00:00'" }));
    const result = await adapter.queryRaw(
      sql("SELECT COUNT(*) AS n, TIMESTAMP('2024-01-02 03:04:05') AS ts, JSON_OBJECT('k', 1) AS j, NULL AS nothing, ? AS p, ? AS s", [5, "it's"]),
    );
    expect(result.columnTypes).toEqual([ColumnTypeEnum.Int64, ColumnTypeEnum.DateTime, ColumnTypeEnum.Json, ColumnTypeEnum.Int32, ColumnTypeEnum.Int32, ColumnTypeEnum.Text]);
    expect(result.rows).toEqual([['1', '2024-01-02T03:04:05+00:00', '{"k": 1}', null, 5, "it's"]]);
  });
});

describe('arguments and writes', () => {
  it('binds big integers, dates, times, datetimes, bytes and JSON as Prisma sends them; executeRaw counts rows; lastInsertId', async () => {
    const adapter = await connected(await openDb(database));
    const at = '2024-05-06T07:08:09.123Z';
    const insert = await adapter.queryRaw(
      sql('INSERT INTO args (big, d, t, dt, b, j) VALUES (?, ?, ?, ?, ?, ?)', ['9007199254740993', at, at, at, Buffer.from([1, 2, 255]).toString('base64'), { k: [1, 'two'] }], [
        { scalarType: 'bigint', arity: 'scalar' },
        { scalarType: 'datetime', dbType: 'DATE', arity: 'scalar' },
        { scalarType: 'datetime', dbType: 'TIME', arity: 'scalar' },
        { scalarType: 'datetime', dbType: 'DATETIME', arity: 'scalar' },
        { scalarType: 'bytes', arity: 'scalar' },
        { scalarType: 'json', arity: 'scalar' },
      ]),
    );
    expect(insert).toMatchObject({ columnNames: [], rows: [], lastInsertId: expect.stringMatching(/^[1-9]\d*$/) as unknown });
    const id = Number(insert.lastInsertId);
    const read = await adapter.queryRaw(sql('SELECT big, d, t, dt, b, j FROM args WHERE big = ?', ['9007199254740993'], [{ scalarType: 'bigint', arity: 'scalar' }]));
    expect(read.rows).toEqual([['9007199254740993', '2024-05-06', '07:08:09.123', '2024-05-06T07:08:09.123+00:00', Buffer.from([1, 2, 255]), '{"k":[1,"two"]}']]);
    // A BigInt compared as a string would be a DOUBLE, and 9007199254740992 would match too.
    expect((await adapter.queryRaw(sql('SELECT id FROM args WHERE big = ?', ['9007199254740992'], [{ scalarType: 'bigint', arity: 'scalar' }]))).rows).toEqual([]);
    expect(await adapter.executeRaw(sql('UPDATE args SET big = big + 1 WHERE id = ?', [id]))).toBe(1);
    expect(await adapter.executeRaw(sql('UPDATE args SET big = big WHERE id = -1'))).toBe(0);
  });

  it('runs a script statement by statement (no multi-statement mode), on one connection', async () => {
    const adapter = await connected(await openDb(database));
    await adapter.executeScript("CREATE TEMPORARY TABLE script_t (v TEXT); INSERT INTO script_t VALUES ('a;b'); INSERT INTO args (j) SELECT JSON_ARRAY(v) FROM script_t;");
    expect((await adapter.queryRaw(sql(`SELECT j FROM args WHERE j = JSON_ARRAY('a;b')`))).rows).toEqual([['["a;b"]']]);
  });
});

describe('errors, in the shape Prisma maps to its codes', () => {
  it('maps duplicate keys, foreign keys, NOT NULL, length, range, unknown tables and columns; other server errors as mysql', async () => {
    const adapter = await connected(await openDb(database));
    await adapter.executeRaw(sql("INSERT INTO parent (email) VALUES ('a@x')"));
    expect(await mappedError(adapter.executeRaw(sql("INSERT INTO parent (email) VALUES ('a@x')")))).toMatchObject({
      kind: 'UniqueConstraintViolation',
      constraint: { index: 'parent_email_key' },
      originalCode: '1062',
    });
    expect(await mappedError(adapter.executeRaw(sql('INSERT INTO child (parentId) VALUES (-1)')))).toMatchObject({
      kind: 'ForeignKeyConstraintViolation',
      constraint: { fields: ['parentId'] },
    });
    expect(await mappedError(adapter.executeRaw(sql('INSERT INTO parent (email) VALUES (NULL)')))).toMatchObject({ kind: 'NullConstraintViolation', constraint: { fields: ['email'] } });
    expect(await mappedError(adapter.executeRaw(sql("INSERT INTO parent (email) VALUES (REPEAT('x', 30))")))).toMatchObject({ kind: 'LengthMismatch', column: 'email' });
    expect(await mappedError(adapter.executeRaw(sql('INSERT INTO child (parentId, small) SELECT id, 1000 FROM parent')))).toMatchObject({ kind: 'ValueOutOfRange' });
    expect(await mappedError(adapter.queryRaw(sql('SELECT * FROM missing')))).toMatchObject({ kind: 'TableDoesNotExist', table: 'missing' });
    expect(await mappedError(adapter.queryRaw(sql('SELECT nope FROM parent')))).toMatchObject({ kind: 'ColumnNotFound', column: 'nope' });
    expect(await mappedError(adapter.queryRaw(sql('SELEC 1')))).toMatchObject({ kind: 'mysql', code: 1064, state: '42000' });
  });

  it("reads MySQL 8's messages as well (table-qualified keys), and passes on errors that are not mysql2's", () => {
    const mysql8 = { errno: 1062, code: 'ER_DUP_ENTRY', sqlState: '23000', sqlMessage: "Duplicate entry 'a@x' for key 'User.User_email_key'" };
    expect(adapterError(mysql8)?.cause).toEqual({
      kind: 'UniqueConstraintViolation',
      constraint: { index: 'User_email_key' },
      table: 'User',
      originalCode: '1062',
      originalMessage: mysql8.sqlMessage,
    });
    const lost = Object.assign(new Error('Connection lost: The server closed the connection.'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true });
    expect(adapterError(lost)?.cause).toMatchObject({ kind: 'ConnectionClosed', originalCode: 'PROTOCOL_CONNECTION_LOST' });
    expect(adapterError({ errno: 4031, sqlState: 'HY000', sqlMessage: 'The client was disconnected by the server because of inactivity.' })?.cause).toMatchObject({ kind: 'ConnectionClosed' });
    expect(adapterError(new Error('not a driver error'))).toBeUndefined();
  });
});

describe('transactions', () => {
  it('commits and rolls back on one connection, at the isolation level asked for this transaction only', async () => {
    const db = await openDb(database);
    const adapter = await connected(db);
    const tx = await adapter.startTransaction('SERIALIZABLE');
    const [[connectionId]] = (await tx.queryRaw(sql('SELECT CONNECTION_ID()'))).rows as [[number]];
    await tx.executeRaw(sql("INSERT INTO parent (email) VALUES ('tx@commit')"));
    const [trx] = await admin<{ level: string }[]>('SELECT trx_isolation_level AS level FROM information_schema.INNODB_TRX WHERE trx_mysql_thread_id = ?', [connectionId]);
    expect(trx?.level).toBe('SERIALIZABLE');
    expect((await tx.queryRaw(sql('SELECT CONNECTION_ID()'))).rows).toEqual([[connectionId]]);
    await tx.commit();
    expect(await mappedError(tx.queryRaw(sql('SELECT 1')))).toMatchObject({ kind: 'TransactionAlreadyClosed' });
    await tx.rollback(); // after commit: nothing to do

    const rolledBack = await adapter.startTransaction();
    await rolledBack.executeRaw(sql("INSERT INTO parent (email) VALUES ('tx@rollback')"));
    await rolledBack.rollback();
    const emails = (await adapter.queryRaw(sql("SELECT email FROM parent WHERE email LIKE 'tx@%' ORDER BY email"))).rows;
    expect(emails).toEqual([['tx@commit']]);
    expect(await eventually(() => Promise.resolve(db.stats.leased === 0))).toBe(true);
    expect(await mappedError(adapter.startTransaction('SNAPSHOT'))).toEqual({ kind: 'InvalidIsolationLevel', level: 'SNAPSHOT' });
  });

  it('nests with savepoints', async () => {
    const adapter = await connected(await openDb(database));
    const tx = await adapter.startTransaction();
    await tx.executeRaw(sql("INSERT INTO parent (email) VALUES ('sp@kept')"));
    await tx.createSavepoint?.('prisma_sp_1');
    await tx.executeRaw(sql("INSERT INTO parent (email) VALUES ('sp@undone')"));
    await tx.rollbackToSavepoint?.('prisma_sp_1');
    await tx.createSavepoint?.('prisma_sp_2');
    await tx.releaseSavepoint?.('prisma_sp_2');
    await tx.commit();
    expect((await adapter.queryRaw(sql("SELECT email FROM parent WHERE email LIKE 'sp@%'"))).rows).toEqual([['sp@kept']]);
  });

  it('a connection killed under a transaction fails its next statement as ConnectionClosed; rollback settles; the pool lends a fresh one', async () => {
    const db = await openDb(database, { DB_POOL_MAX: '2' });
    const adapter = await connected(db);
    const tx = await adapter.startTransaction();
    await tx.executeRaw(sql("INSERT INTO parent (email) VALUES ('kill@lost')"));
    const [[connectionId]] = (await tx.queryRaw(sql('SELECT CONNECTION_ID()'))).rows as [[number]];
    await admin(`KILL CONNECTION ${connectionId}`);
    expect(await mappedError(tx.executeRaw(sql("INSERT INTO parent (email) VALUES ('kill@after')")))).toMatchObject({ kind: 'ConnectionClosed' });
    await tx.rollback();
    expect(await eventually(() => Promise.resolve(db.stats.leased === 0))).toBe(true);
    expect(await serverConnections(database)).not.toContain(connectionId);
    const next = await adapter.startTransaction();
    const [[other]] = (await next.queryRaw(sql('SELECT CONNECTION_ID()'))).rows as [[number]];
    expect(other).not.toBe(connectionId);
    await next.commit();
    expect((await adapter.queryRaw(sql("SELECT email FROM parent WHERE email LIKE 'kill@%'"))).rows).toEqual([]);
  });
});

describe('connections', () => {
  // Regression: over db.pool().query() every statement was followed by a KILL QUERY on the
  // server: the facade gives the connection back on mysql2's 'end' event, while mysql2 still
  // holds the finished command as current, so the pool cancels it (Prisma's SELECT 1 at
  // concurrency 16 through ssh: 0.06x of the official adapter). The adapter borrows with
  // getConnection() and gives back in the statement's callback.
  it("runs each statement on a connection it borrows and gives back itself, never through the pool's query()", async () => {
    const db = await openDb(database, { DB_POOL_MAX: '4' });
    const pool = db.pool();
    const refuse = (): never => {
      throw new Error('the adapter must not call pool.query() or pool.execute()');
    };
    const watched = { getConnection: pool.getConnection.bind(pool), query: refuse, execute: refuse } as unknown as typeof pool;
    const source = { config: db.config, pool: () => watched };
    const adapter = await new PrismaDbSwitch(source).connect();
    for (let i = 0; i < 20; i++) {
      expect((await adapter.queryRaw(sql('SELECT ?', [i]))).rows).toEqual([[i]]);
      expect(db.stats).toMatchObject({ open: 1, leased: 0 });
    }
    await Promise.all(Array.from({ length: 8 }, (_, i) => adapter.executeRaw(sql('DO ?', [i]))));
    expect(db.stats).toMatchObject({ leased: 0, waiting: 0 });
  });
});

describe('lifecycle', () => {
  it('dispose() rolls back what Prisma left open and leaves the Db open; connect() again works', async () => {
    const db = await openDb(database);
    const factory = new PrismaDbSwitch(db);
    const adapter = await factory.connect();
    expect(adapter.getConnectionInfo?.()).toEqual({ schemaName: database, supportsRelationJoins: false });
    const tx = await adapter.startTransaction();
    await tx.executeRaw(sql("INSERT INTO parent (email) VALUES ('dispose@open')"));
    await adapter.dispose();
    expect(await eventually(() => Promise.resolve(db.stats.leased === 0))).toBe(true);
    await expect(adapter.queryRaw(sql('SELECT 1'))).rejects.toMatchObject({ name: 'DbSwitchError', code: 'ECLOSED' });
    const [rows] = await db.withSession((s) => s.query('SELECT COUNT(*) AS n FROM parent WHERE email = ?', ['dispose@open']));
    expect(rows).toEqual([{ n: 0 }]);
    expect((await (await factory.connect()).queryRaw(sql('SELECT 1'))).rows).toEqual([[1]]);
  });

  it('after db.close(), connect() fails with dbswitch ECLOSED', async () => {
    const db = await openDb(database);
    await db.close();
    await expect(new PrismaDbSwitch(db).connect()).rejects.toMatchObject({ name: 'DbSwitchError', code: 'ECLOSED' });
  });
});

afterAll(async () => {
  // Nothing of this file's pools is left on the server.
  expect(await eventually(async () => (await serverConnections(database)).length === 0)).toBe(true);
});
