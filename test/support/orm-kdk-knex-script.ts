// Knex 3 on dbswitch, as test/orm/knex.test.ts runs it in the consumer project (see
// orm-kdk-child.ts): the common scenario on `knex(knexConfig(db))`, then the per-connection setup
// scenario with pool.afterCreate, on a Db of one connection.
import { createDb } from 'dbswitch';
import { knexConfig, type KnexAfterCreate } from 'dbswitch/knex';
import knex from 'knex';
import { printReport, runScenario, runSetupScenario, type OrmUnderTest } from './orm-kdk-child.js';

interface SeqRow {
  seq: number | string;
}

const db = await createDb();
const k = knex(knexConfig(db));

/** Streams `SELECT seq [, SLEEP(...)] FROM seq_1_to_<rows>`; stops after `take` rows. */
async function streamSeq(rows: number, take: number, sleepSeconds?: number): Promise<number[]> {
  const query = k.select('seq').from(`seq_1_to_${rows}`);
  if (sleepSeconds !== undefined) void query.select(k.raw(`SLEEP(IF(seq = 3, ${sleepSeconds}, 0)) AS slept`));
  const seen: number[] = [];
  for await (const row of query.stream() as AsyncIterable<SeqRow>) {
    seen.push(Number(row.seq));
    if (seen.length >= take) break;
  }
  return seen;
}

const orm: OrmUnderTest = {
  async createTable() {
    await k.schema.dropTableIfExists('items');
    await k.schema.createTable('items', (table) => {
      table.increments('id');
      table.string('name', 50).notNullable().unique();
      table.integer('qty').notNullable();
    });
  },
  async insert(name, qty) {
    const [id] = await k('items').insert({ name, qty });
    return Number(id);
  },
  list: () => k('items').select<{ name: string; qty: number }[]>('name', 'qty').orderBy('id'),
  update: (name, qty) => k('items').where({ name }).update({ qty }),
  remove: (name) => k('items').where({ name }).del(),
  insertInTransaction: (name, failure) =>
    k.transaction(async (trx) => {
      await trx('items').insert({ name, qty: 0 });
      if (failure !== undefined) throw failure;
    }),
  stream: (rows, take) => streamSeq(rows, take ?? Number.POSITIVE_INFINITY),
  slowStream: (sleepSeconds) => streamSeq(5, Number.POSITIVE_INFINITY, sleepSeconds),
  sleep: (seconds) => k.raw(`SELECT SLEEP(${seconds})`).then(() => undefined),
  async connectionId() {
    const [rows] = (await k.raw('SELECT CONNECTION_ID() AS id')) as [{ id: number }[]];
    return Number(rows[0]?.id);
  },
  destroy: () => k.destroy(),
};
const scenario = await runScenario(db, orm);

// One connection for everyone, so the ORM and the sessions share it.
const single = await createDb({ env: { ...process.env, DB_POOL_MAX: '1' } });
let setupRuns = 0;
const afterCreate: KnexAfterCreate = (connection, done) => {
  setupRuns++;
  connection.query("SET time_zone = '+02:00'", (err) => {
    done(err);
  });
};
const withSetup = knex(knexConfig(single, { pool: { afterCreate } }));
const setup = await runSetupScenario(
  single,
  async () => {
    const [rows] = (await withSetup.raw('SELECT @@SESSION.time_zone AS tz, CONNECTION_ID() AS id')) as [{ tz: string; id: number }[]];
    return { tz: rows[0]?.tz ?? '', id: Number(rows[0]?.id) };
  },
  () => setupRuns,
  () => withSetup.destroy(),
);
await single.close();
printReport({ scenario, setup });
