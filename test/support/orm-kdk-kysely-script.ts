// Kysely 0.28 on dbswitch, as test/orm/kysely.test.ts runs it in the consumer project (see
// orm-kdk-child.ts): the common scenario on `new MysqlDialect({ pool: db.pool() })`, then the
// per-connection setup scenario with onCreateConnection, on a Db of one connection.
import { createDb } from 'dbswitch';
import { CompiledQuery, Kysely, MysqlDialect, sql, type Generated } from 'kysely';
import { printReport, runScenario, runSetupScenario, type OrmUnderTest } from './orm-kdk-child.js';

interface Database {
  items: { id: Generated<number>; name: string; qty: number };
}

const db = await createDb();
const kysely = new Kysely<Database>({ dialect: new MysqlDialect({ pool: db.pool() }) });

/** Streams `SELECT seq [, SLEEP(...)] FROM seq_1_to_<rows>`; stops after `take` rows. */
async function streamSeq(rows: number, take: number, sleepSeconds?: number): Promise<number[]> {
  const seq = kysely.selectFrom(sql<{ seq: number | string }>`${sql.raw(`seq_1_to_${rows}`)}`.as('t')).select('t.seq');
  const query = sleepSeconds === undefined ? seq : seq.select(sql.raw<number>(`SLEEP(IF(seq = 3, ${sleepSeconds}, 0))`).as('slept'));
  const seen: number[] = [];
  for await (const row of query.stream()) {
    seen.push(Number(row.seq));
    if (seen.length >= take) break;
  }
  return seen;
}

const orm: OrmUnderTest = {
  async createTable() {
    await kysely.schema.dropTable('items').ifExists().execute();
    await kysely.schema
      .createTable('items')
      .addColumn('id', 'integer', (column) => column.autoIncrement().primaryKey())
      .addColumn('name', 'varchar(50)', (column) => column.notNull().unique())
      .addColumn('qty', 'integer', (column) => column.notNull())
      .execute();
  },
  async insert(name, qty) {
    const result = await kysely.insertInto('items').values({ name, qty }).executeTakeFirstOrThrow();
    return Number(result.insertId);
  },
  list: () => kysely.selectFrom('items').select(['name', 'qty']).orderBy('id').execute(),
  async update(name, qty) {
    return Number((await kysely.updateTable('items').set({ qty }).where('name', '=', name).executeTakeFirstOrThrow()).numUpdatedRows);
  },
  async remove(name) {
    return Number((await kysely.deleteFrom('items').where('name', '=', name).executeTakeFirstOrThrow()).numDeletedRows);
  },
  insertInTransaction: (name, failure) =>
    kysely.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ name, qty: 0 }).execute();
      if (failure !== undefined) throw failure;
    }),
  stream: (rows, take) => streamSeq(rows, take ?? Number.POSITIVE_INFINITY),
  slowStream: (sleepSeconds) => streamSeq(5, Number.POSITIVE_INFINITY, sleepSeconds),
  sleep: (seconds) => sql.raw(`SELECT SLEEP(${seconds})`).execute(kysely),
  async connectionId() {
    const { rows } = await sql<{ id: number }>`SELECT CONNECTION_ID() AS id`.execute(kysely);
    return Number(rows[0]?.id);
  },
  destroy: () => kysely.destroy(),
};
const scenario = await runScenario(db, orm);

// One connection for everyone, so the ORM and the sessions share it.
const single = await createDb({ env: { ...process.env, DB_POOL_MAX: '1' } });
let setupRuns = 0;
const withSetup = new Kysely<Database>({
  dialect: new MysqlDialect({
    pool: single.pool(),
    onCreateConnection: async (connection) => {
      setupRuns++;
      await connection.executeQuery(CompiledQuery.raw("SET time_zone = '+02:00'"));
    },
  }),
});
const setup = await runSetupScenario(
  single,
  async () => {
    const { rows } = await sql<{ tz: string; id: number }>`SELECT @@SESSION.time_zone AS tz, CONNECTION_ID() AS id`.execute(withSetup);
    return { tz: rows[0]?.tz ?? '', id: Number(rows[0]?.id) };
  },
  () => setupRuns,
  () => withSetup.destroy(),
);
await single.close();
printReport({ scenario, setup });
