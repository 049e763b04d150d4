// A Prisma 7 application on dbswitch. DB_TYPE (basic, aws or ssh) and the DB_* / SSH_* variables
// decide how it reaches MySQL; the code is the same for each. See README.md.
import { createDb } from 'dbswitch';
import { PrismaDbSwitch } from 'dbswitch/prisma';
import { PrismaClient } from './generated/prisma/client.js';

const db = await createDb(); // reads the environment; nothing connects yet
const prisma = new PrismaClient({ adapter: new PrismaDbSwitch(db) }); // Prisma's queries use the Db's pool
try {
  const ada = await prisma.author.upsert({
    where: { email: 'ada@example.com' },
    update: {},
    create: { email: 'ada@example.com', name: 'Ada' },
  });
  // One connection from BEGIN to COMMIT; rolled back if the callback throws.
  await prisma.$transaction(async (tx) => {
    await tx.post.create({ data: { title: 'Notes on the Analytical Engine', authorId: ada.id } });
    await tx.author.update({ where: { id: ada.id }, data: { name: 'Ada Lovelace' } });
  });
  const authors = await prisma.author.findMany({ include: { posts: true } });
  console.log(JSON.stringify(authors));
} finally {
  await prisma.$disconnect(); // gives back what Prisma holds; the Db stays open
  await db.close(); // closes the pool (and the SSH tunnel), once the work is done
}
