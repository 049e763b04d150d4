// Kysely on dbswitch. DB_TYPE (basic, aws or ssh) and the DB_* / SSH_* variables decide how it
// reaches MySQL; the code is the same for each. Run: `DB_TYPE=ssh ... node dist/app.js`.
import { createDb } from 'dbswitch';
import { Kysely, MysqlDialect, sql, type Generated } from 'kysely';

interface Database {
  todo: { id: Generated<number>; title: string; done: boolean };
}

const db = await createDb(); // reads the environment; nothing connects yet
// Kysely borrows dbswitch's connections: pre-ping, lifetime, session isolation, IAM tokens, SSH.
const kysely = new Kysely<Database>({ dialect: new MysqlDialect({ pool: db.pool() }) });

await kysely.schema.dropTable('todo').ifExists().execute();
await kysely.schema
  .createTable('todo')
  .addColumn('id', 'integer', (column) => column.autoIncrement().primaryKey())
  .addColumn('title', 'varchar(100)', (column) => column.notNull())
  .addColumn('done', 'boolean', (column) => column.notNull().defaultTo(false))
  .execute();

// Committed when the callback resolves, rolled back when it throws.
await kysely.transaction().execute(async (trx) => {
  await trx.insertInto('todo').values([{ title: 'write the report', done: false }, { title: 'book the venue', done: true }]).execute();
});
await kysely
  .transaction()
  .execute(async (trx) => {
    await trx.insertInto('todo').values({ title: 'never saved', done: false }).execute();
    throw new Error('changed my mind');
  })
  .catch((err: unknown) => {
    console.log(`rolled back: ${err instanceof Error ? err.message : String(err)}`);
  });

const open = await kysely.selectFrom('todo').select('title').where('done', '=', false).execute();
console.log(`open: ${open.map((todo) => todo.title).join(', ')}`);

// Row by row, without loading the whole result.
for await (const todo of kysely.selectFrom('todo').select(['id', 'title']).orderBy('id').stream()) {
  console.log(`#${todo.id} ${todo.title}`);
}

const { rows } = await sql<{ now: string }>`SELECT DATE_FORMAT(NOW(), '%Y') AS now`.execute(kysely);
console.log(`the server's year has ${rows[0]?.now.length ?? 0} digits`);

await kysely.destroy(); // Kysely lets go of the pool; the Db stays open for the rest of the app
await db.close(); // then dbswitch closes its connections (and the SSH tunnel)
