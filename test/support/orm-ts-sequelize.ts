// The Sequelize application of test/orm/sequelize.test.ts. Not imported by the tests: they copy
// it into the consumer project, compile it there against the published package (as a user would)
// and run it with the DB_* / SSH_* / AWS_* environment of the provider tested, plus:
//   SCENARIO      `work` (default): CRUD, transactions, connections killed under it;
//                 `login`: only connect, and say where it landed (for the TLS checks).
//   ADMIN_SOCKET  the server's unix socket, where root does what the test does behind the
//                 application's back (KILL CONNECTION, the processlist).
// Sequelize is given no host, port, user or password: it fills in localhost:3306 itself, which
// must not redirect anything. It prints one JSON line of what it saw, and must exit by itself.
import * as dbswitchMysql2 from 'dbswitch/mysql2';
import mysql from 'mysql2/promise';
import { DataTypes, QueryTypes, Sequelize, type Model, type ModelStatic } from 'sequelize';

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

async function serverConnections(): Promise<number> {
  const rows = await admin<{ n: number }[]>('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ?', [database]);
  return rows[0]?.n ?? -1;
}

function describeError(err: unknown): Record<string, unknown> {
  const e = err as { name?: string; code?: string; message?: string; parent?: { code?: string; name?: string } };
  return { name: e.name, code: e.code, parentCode: e.parent?.code, parentName: e.parent?.name, message: e.message?.slice(0, 300) };
}

function newSequelize(): Sequelize {
  // The glue: the driver module, and nothing about where the database is or who logs in.
  return new Sequelize({ dialect: 'mysql', dialectModule: dbswitchMysql2, logging: false, pool: { max: 3 } });
}

async function where(sequelize: Sequelize): Promise<Record<string, unknown>> {
  return (await sequelize.query(
    "SELECT CONNECTION_ID() AS id, DATABASE() AS db, CURRENT_USER() AS user, @@time_zone AS timeZone, @dbswitch_init AS init, (SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_version') AS tls",
    { type: QueryTypes.SELECT, plain: true },
  )) as Record<string, unknown>;
}

async function work(): Promise<Record<string, unknown>> {
  const result: Record<string, unknown> = {};
  const sequelize = newSequelize();
  result['config'] = { host: sequelize.config.host, port: sequelize.config.port };
  result['where'] = await where(sequelize);
  const Item: ModelStatic<Model> = sequelize.define('item', { name: DataTypes.STRING(64), qty: { type: DataTypes.INTEGER, defaultValue: 0 } }, { tableName: 'item', timestamps: false });
  await Item.sync({ force: true });

  // CRUD
  const created = await Item.create({ name: 'first', qty: 1 });
  await Item.update({ qty: 2 }, { where: { id: created.get('id') as number } });
  const read = await Item.findByPk(created.get('id') as number);
  result['read'] = read?.get({ plain: true });
  await Item.destroy({ where: { id: created.get('id') as number } });
  result['countAfterDelete'] = await Item.count();

  // A committed and a rolled-back (managed) transaction
  await sequelize.transaction(async (transaction) => {
    await Item.create({ name: 'committed' }, { transaction });
  });
  result['rollback'] = await sequelize
    .transaction(async (transaction) => {
      await Item.create({ name: 'rolled back' }, { transaction });
      throw new Error('roll it back');
    })
    .then(
      () => 'committed',
      (err: unknown) => (err as Error).message,
    );
  result['names'] = (await Item.findAll({ order: [['id', 'ASC']] })).map((item) => item.get('name'));
  // Bound parameters (Sequelize sends these with execute) and a bulk insert
  await Item.bulkCreate(Array.from({ length: 100 }, (_, i) => ({ name: `row${i}`, qty: i })));
  result['bound'] = await sequelize.query('SELECT COUNT(*) AS n, SUM(qty) AS total FROM item WHERE name LIKE $prefix', {
    bind: { prefix: 'row%' },
    type: QueryTypes.SELECT,
    plain: true,
  });

  // A connection killed while idle in Sequelize's pool: the next call works
  const idle = await where(sequelize);
  await admin(`KILL CONNECTION ${Number(idle['id'])}`);
  await sleep(300);
  result['afterIdleKill'] = await Item.count();

  // A connection killed while its statement runs: that call fails cleanly and promptly, the next works
  const transaction = await sequelize.transaction();
  const busy = (await sequelize.query('SELECT CONNECTION_ID() AS id', { type: QueryTypes.SELECT, plain: true, transaction })) as { id: number };
  const started = Date.now();
  const running = sequelize.query('SELECT SLEEP(20)', { transaction }).then(
    () => ({ settled: 'resolved' }),
    (err: unknown) => ({ settled: 'rejected', ...describeError(err) }),
  );
  await sleep(300);
  await admin(`KILL CONNECTION ${busy.id}`);
  result['inFlight'] = { ...(await running), ms: Date.now() - started };
  await transaction.rollback().catch(() => undefined);
  result['afterBusyKill'] = await Item.count();
  result['stillThere'] = (await admin<unknown[]>('SELECT ID FROM information_schema.PROCESSLIST WHERE ID IN (?, ?)', [idle['id'], busy.id])).length;

  await sequelize.close();
  return result;
}

async function login(): Promise<Record<string, unknown>> {
  const sequelize = newSequelize();
  try {
    return { where: await where(sequelize) };
  } catch (err) {
    return { failed: describeError(err) };
  } finally {
    await sequelize.close();
  }
}

const scenarios: Record<string, () => Promise<Record<string, unknown>>> = { work, login };
const scenario = scenarios[env['SCENARIO'] ?? 'work'];
if (scenario === undefined) throw new Error(`unknown SCENARIO ${env['SCENARIO'] ?? ''}`);
const result = await scenario();
await sleep(100);
result['leftOnServer'] = await serverConnections();
await sleep(50);
result['keepingAlive'] = process.getActiveResourcesInfo().filter((kind) => kind !== 'TTYWrap');
console.log(JSON.stringify(result));
