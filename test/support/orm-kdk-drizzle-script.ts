// Drizzle 0.45 on dbswitch, as test/orm/drizzle.test.ts runs it in the consumer project (see
// orm-kdk-child.ts): the common scenario on `drizzle({ client: db.pool().promise() })`.
import { createDb, type RowDataPacket } from 'dbswitch';
import { eq, sql, type SQL } from 'drizzle-orm';
import { int, mysqlTable, varchar } from 'drizzle-orm/mysql-core';
import { drizzle } from 'drizzle-orm/mysql2';
import { printReport, runScenario, type OrmUnderTest } from './orm-kdk-child.js';

const items = mysqlTable('items', {
  id: int('id').autoincrement().primaryKey(),
  name: varchar('name', { length: 50 }).notNull().unique(),
  qty: int('qty').notNull(),
});

const db = await createDb();
const orm = drizzle({ client: db.pool().promise() });

/** Iterates `SELECT seq [, SLEEP(...)] FROM seq_1_to_<rows>`; stops after `take` rows. */
async function iterateSeq(rows: number, take: number, sleepSeconds?: number): Promise<number[]> {
  const from: SQL = sql.raw(`seq_1_to_${rows}`);
  const columns = sleepSeconds === undefined ? { seq: sql<number | string>`seq` } : { seq: sql<number | string>`seq`, slept: sql.raw(`SLEEP(IF(seq = 3, ${sleepSeconds}, 0))`) };
  const seen: number[] = [];
  for await (const row of orm.select(columns).from(from).iterator()) {
    seen.push(Number(row.seq));
    if (seen.length >= take) break;
  }
  return seen;
}

const drizzleOrm: OrmUnderTest = {
  async createTable() {
    await orm.execute(sql`DROP TABLE IF EXISTS items`);
    await orm.execute(sql`CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) NOT NULL UNIQUE, qty INT NOT NULL)`);
  },
  async insert(name, qty) {
    const [header] = await orm.insert(items).values({ name, qty });
    return header.insertId;
  },
  list: () => orm.select({ name: items.name, qty: items.qty }).from(items).orderBy(items.id),
  async update(name, qty) {
    const [header] = await orm.update(items).set({ qty }).where(eq(items.name, name));
    return header.affectedRows;
  },
  async remove(name) {
    const [header] = await orm.delete(items).where(eq(items.name, name));
    return header.affectedRows;
  },
  insertInTransaction: (name, failure) =>
    orm.transaction(async (tx) => {
      await tx.insert(items).values({ name, qty: 0 });
      if (failure !== undefined) throw failure;
    }),
  stream: (rows, take) => iterateSeq(rows, take ?? Number.POSITIVE_INFINITY),
  slowStream: (sleepSeconds) => iterateSeq(5, Number.POSITIVE_INFINITY, sleepSeconds),
  sleep: (seconds) => orm.execute(sql.raw(`SELECT SLEEP(${seconds})`)),
  async connectionId() {
    const [rows] = (await orm.execute(sql`SELECT CONNECTION_ID() AS id`)) as unknown as [RowDataPacket[], unknown];
    return Number(rows[0]?.['id']);
  },
  // Drizzle has nothing to shut down: the Db's close() ends what it used.
  destroy: () => Promise.resolve(),
};
printReport({ scenario: await runScenario(db, drizzleOrm) });
