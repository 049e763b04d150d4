// The TypeORM application of test/orm/typeorm.test.ts. Not imported by the tests: they copy it
// into the consumer project, compile it there against the published package (as a user would) and
// run it with the DB_* / SSH_* / AWS_* environment of the provider tested, plus:
//   SCENARIO      `work` (default): CRUD, transactions, streaming, connections killed under it;
//                 `bound`: TypeORM on mysql2Driver(db), sharing the Db's pool with sessions;
//                 `refusals`: what dbswitch/mysql2 refuses, and how.
//   ADMIN_SOCKET  the server's unix socket, where root does what the test does behind the
//                 application's back (KILL CONNECTION, the processlist).
// It prints one JSON line of what it saw, and must exit by itself: nothing may keep it alive.
import { createDb, isDbSwitchError } from 'dbswitch';
import * as dbswitchMysql2 from 'dbswitch/mysql2';
import { mysql2Driver } from 'dbswitch/mysql2';
import mysql from 'mysql2/promise';
import { DataSource, EntitySchema, type EntityManager } from 'typeorm';

interface Item {
  id: number;
  name: string;
  qty: number;
  at: Date | null;
}

// TypeORM declares EntitySchemaOptions as a class, and documents passing a plain object.
// eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
const ItemSchema = new EntitySchema<Item>({
  name: 'Item',
  tableName: 'item',
  columns: {
    id: { type: Number, primary: true, generated: true },
    name: { type: String, length: 64 },
    qty: { type: Number, default: 0 },
    at: { type: 'datetime', nullable: true },
  },
});

const env = process.env;
const database = env['DB_NAME'] ?? '';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Root on the server's socket: the test's hand, not the application's. */
async function admin<T>(sql: string, values?: unknown[]): Promise<T> {
  const connection = await mysql.createConnection({ socketPath: env['ADMIN_SOCKET'] ?? '', user: 'root' });
  try {
    return (await connection.query(sql, values))[0] as T;
  } finally {
    await connection.end();
  }
}

/** Connections the server has for this database. */
async function serverConnections(): Promise<number> {
  const rows = await admin<{ n: number }[]>('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ?', [database]);
  return rows[0]?.n ?? -1;
}

/** What an error looks like to the application: its class, its code, the driver's code. */
function describeError(err: unknown): Record<string, unknown> {
  const e = err as { name?: string; code?: string; message?: string; driverError?: { code?: string } };
  return { name: e.name, code: e.code, driverCode: e.driverError?.code, message: e.message?.slice(0, 200) };
}

async function connectionId(manager: EntityManager): Promise<number> {
  const rows: { id: number }[] = await manager.query('SELECT CONNECTION_ID() AS id');
  return Number(rows[0]?.id);
}

async function work(): Promise<Record<string, unknown>> {
  const result: Record<string, unknown> = {};
  // The glue: the driver module, and nothing about where the database is or who logs in.
  // timezone 'Z' is TypeORM's own option: dates are written and read in UTC whatever TZ says.
  const dataSource = new DataSource({ type: 'mysql', driver: dbswitchMysql2, entities: [ItemSchema], synchronize: true, timezone: 'Z' });
  await dataSource.initialize();
  result['database'] = dataSource.driver.database;
  const items = dataSource.getRepository(ItemSchema);
  await items.clear();

  // CRUD
  const created = await items.save({ name: 'first', qty: 1, at: new Date('2024-05-06T07:08:09Z') });
  await items.update(created.id, { qty: 2 });
  const read = await items.findOneByOrFail({ id: created.id });
  result['read'] = { name: read.name, qty: read.qty, at: read.at?.toISOString() };
  const stored = await admin<{ at: string }[]>(`SELECT CAST(at AS CHAR) AS at FROM \`${database}\`.item WHERE id = ?`, [created.id]);
  result['storedAt'] = stored[0]?.at;
  await items.delete(created.id);
  result['countAfterDelete'] = await items.count();

  // A committed and a rolled-back transaction
  await dataSource.transaction(async (manager) => {
    await manager.save(ItemSchema, { name: 'committed', qty: 1 });
  });
  result['rollback'] = await dataSource
    .transaction('READ COMMITTED', async (manager) => {
      await manager.save(ItemSchema, { name: 'rolled back', qty: 1 });
      throw new Error('roll it back');
    })
    .then(
      () => 'committed',
      (err: unknown) => (err as Error).message,
    );
  result['names'] = (await items.find({ order: { id: 'ASC' } })).map((item) => item.name);

  // Streaming: rows arrive as the server sends them
  await items.insert(Array.from({ length: 300 }, (_, i) => ({ name: `row${i}`, qty: i })));
  const stream = await items.createQueryBuilder('item').where('item.name LIKE :prefix', { prefix: 'row%' }).stream();
  let streamed = 0;
  let qtySum = 0;
  for await (const row of stream as AsyncIterable<Record<string, unknown>>) {
    streamed++;
    qtySum += Number(row['item_qty']);
  }
  result['streamed'] = { rows: streamed, qtySum };

  // A connection killed while idle in the pool: the next call works
  const idle = dataSource.createQueryRunner();
  const idleId = await connectionId(idle.manager);
  await idle.release();
  await admin(`KILL CONNECTION ${idleId}`);
  await sleep(200);
  result['afterIdleKill'] = await items.count();

  // A connection killed while its statement runs: that call fails cleanly and promptly, the next works
  const busy = dataSource.createQueryRunner();
  const busyId = await connectionId(busy.manager);
  const started = Date.now();
  const running = busy.query('SELECT SLEEP(20)').then(
    () => ({ settled: 'resolved' }),
    (err: unknown) => ({ settled: 'rejected', ...describeError(err) }),
  );
  await sleep(300);
  await admin(`KILL CONNECTION ${busyId}`);
  result['inFlight'] = { ...(await running), ms: Date.now() - started };
  await busy.release();
  result['afterBusyKill'] = await items.count();
  result['stillThere'] = (await admin<unknown[]>('SELECT ID FROM information_schema.PROCESSLIST WHERE ID IN (?, ?)', [idleId, busyId])).length;

  await dataSource.destroy();
  return result;
}

async function bound(): Promise<Record<string, unknown>> {
  const result: Record<string, unknown> = {};
  const db = await createDb();
  // One pool for the application's sessions and TypeORM's queries (DB_POOL_MAX applies to both).
  const dataSource = new DataSource({ type: 'mysql', driver: mysql2Driver(db), entities: [ItemSchema], synchronize: true });
  await dataSource.initialize();
  const ids = new Set<number>();
  const both = await Promise.all([
    ...Array.from({ length: 8 }, async () => {
      ids.add(await connectionId(dataSource.manager));
      return 'orm';
    }),
    ...Array.from({ length: 8 }, () =>
      db.withSession(async (session) => {
        const [rows] = await session.query('SELECT CONNECTION_ID() AS id');
        ids.add(Number((rows as { id: number }[])[0]?.id));
        return 'session';
      }),
    ),
  ]);
  result['ran'] = both.length;
  result['distinctConnections'] = ids.size;
  result['serverConnections'] = await serverConnections();
  await dataSource.destroy();
  // The Db is the application's: still open after the ORM is gone.
  result['afterDestroy'] = await db.withSession(async (session) => (await session.query('SELECT 1 AS one'))[0]);
  await db.close();
  return result;
}

async function refusals(): Promise<Record<string, unknown>> {
  const attempt = async (options: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const dataSource = new DataSource({ type: 'mysql', driver: dbswitchMysql2, entities: [ItemSchema], ...options });
    try {
      await dataSource.initialize();
      await dataSource.destroy();
      return { initialized: true };
    } catch (err) {
      return { dbswitch: isDbSwitchError(err), ...describeError(err) };
    }
  };
  return {
    replication: await attempt({ replication: { master: {}, slaves: [{}] } }),
    multipleStatements: await attempt({ multipleStatements: true }),
  };
}

const scenarios: Record<string, () => Promise<Record<string, unknown>>> = { work, bound, refusals };
const scenario = scenarios[env['SCENARIO'] ?? 'work'];
if (scenario === undefined) throw new Error(`unknown SCENARIO ${env['SCENARIO'] ?? ''}`);
const result = await scenario();
// After everything is closed: nothing of dbswitch's may be left on the server, or keep the process alive.
await sleep(100);
result['leftOnServer'] = await serverConnections();
result['keepingAlive'] = process.getActiveResourcesInfo().filter((kind) => kind !== 'TTYWrap');
console.log(JSON.stringify(result));
