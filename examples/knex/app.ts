// Knex on dbswitch. DB_TYPE (basic, aws or ssh) and the DB_* / SSH_* variables decide how it
// reaches MySQL; the code is the same for each. Run: `DB_TYPE=ssh ... node dist/app.js`.
import { createDb } from 'dbswitch';
import { knexConfig } from 'dbswitch/knex';
import knex from 'knex';

interface Todo {
  id: number;
  title: string;
  done: boolean;
}

const db = await createDb(); // reads the environment; nothing connects yet
// Knex borrows dbswitch's connections (no pool of its own): pre-ping, lifetime, isolation, IAM, SSH.
const k = knex(knexConfig(db));

await k.schema.dropTableIfExists('todo');
await k.schema.createTable('todo', (table) => {
  table.increments('id');
  table.string('title', 100).notNullable();
  table.boolean('done').notNullable().defaultTo(false);
});

// Committed when the callback resolves, rolled back when it throws.
await k.transaction(async (trx) => {
  await trx<Todo>('todo').insert([{ title: 'write the report' }, { title: 'book the venue', done: true }]);
});
await k
  .transaction(async (trx) => {
    await trx<Todo>('todo').insert({ title: 'never saved' });
    throw new Error('changed my mind');
  })
  .catch((err: unknown) => {
    console.log(`rolled back: ${err instanceof Error ? err.message : String(err)}`);
  });

const open = await k<Todo>('todo').select('title').where({ done: false });
console.log(`open: ${open.map((row) => row.title).join(', ')}`);

// Row by row, without loading the whole result.
for await (const row of k<Todo>('todo').select('id', 'title').orderBy('id').stream() as AsyncIterable<Pick<Todo, 'id' | 'title'>>) {
  console.log(`#${row.id} ${row.title}`);
}

const [[year]] = (await k.raw("SELECT DATE_FORMAT(NOW(), '%Y') AS now")) as [{ now: string }[]];
console.log(`the server's year has ${year?.now.length ?? 0} digits`);

await k.destroy(); // Knex lets go of dbswitch's pool; the Db stays open for the rest of the app
await db.close(); // then dbswitch closes its connections (and the SSH tunnel)
