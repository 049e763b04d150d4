// Drizzle on dbswitch. DB_TYPE (basic, aws or ssh) and the DB_* / SSH_* variables decide how it
// reaches MySQL; the code is the same for each. Run: `DB_TYPE=ssh ... node dist/app.js`.
import { createDb } from 'dbswitch';
import { eq, sql } from 'drizzle-orm';
import { boolean, int, mysqlTable, varchar } from 'drizzle-orm/mysql-core';
import { drizzle } from 'drizzle-orm/mysql2';

const todo = mysqlTable('todo', {
  id: int('id').autoincrement().primaryKey(),
  title: varchar('title', { length: 100 }).notNull(),
  done: boolean('done').notNull().default(false),
});

const db = await createDb(); // reads the environment; nothing connects yet
// Drizzle borrows dbswitch's connections: pre-ping, lifetime, session isolation, IAM tokens, SSH.
const orm = drizzle({ client: db.pool().promise() });

await orm.execute(sql`DROP TABLE IF EXISTS todo`);
await orm.execute(sql`CREATE TABLE todo (id INT AUTO_INCREMENT PRIMARY KEY, title VARCHAR(100) NOT NULL, done BOOLEAN NOT NULL DEFAULT FALSE)`);

// Committed when the callback resolves, rolled back when it throws.
await orm.transaction(async (tx) => {
  await tx.insert(todo).values([{ title: 'write the report' }, { title: 'book the venue', done: true }]);
});
await orm
  .transaction(async (tx) => {
    await tx.insert(todo).values({ title: 'never saved' });
    throw new Error('changed my mind');
  })
  .catch((err: unknown) => {
    console.log(`rolled back: ${err instanceof Error ? err.message : String(err)}`);
  });

const open = await orm.select({ title: todo.title }).from(todo).where(eq(todo.done, false));
console.log(`open: ${open.map((row) => row.title).join(', ')}`);

// Row by row, without loading the whole result.
for await (const row of orm.select({ id: todo.id, title: todo.title }).from(todo).orderBy(todo.id).iterator()) {
  console.log(`#${row.id} ${row.title}`);
}

const [year] = await orm.select({ now: sql<string>`DATE_FORMAT(NOW(), '%Y')` }).from(sql`DUAL`);
console.log(`the server's year has ${year?.now.length ?? 0} digits`);

await db.close(); // dbswitch closes its connections (and the SSH tunnel); Drizzle holds nothing of its own
