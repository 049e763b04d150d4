// TypeORM on dbswitch. DB_TYPE (basic, aws or ssh) and the DB_* / SSH_* variables decide how it
// reaches MySQL; the code is the same for each: TypeORM gets dbswitch/mysql2 as its driver and
// no host, port, user or password. See README.md ("ORMs and query builders").
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import * as mysql2 from 'dbswitch/mysql2';

@Entity()
class Note {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 200 })
  body!: string;
}

const dataSource = new DataSource({
  type: 'mysql',
  driver: mysql2, // the route, the credentials and TLS are dbswitch's; the database is DB_NAME
  entities: [Note],
  synchronize: true, // for the example; use migrations in production (dbswitch exec -- typeorm ...)
});
await dataSource.initialize();
try {
  const notes = dataSource.getRepository(Note);
  await notes.save(notes.create({ body: `written at ${new Date().toISOString()}` }));

  // Committed when the callback resolves, rolled back when it throws.
  await dataSource
    .transaction(async (manager) => {
      await manager.save(manager.create(Note, { body: 'never stored' }));
      throw new Error('changed my mind');
    })
    .catch((err: unknown) => {
      console.log(`rolled back: ${(err as Error).message}`);
    });

  console.log(JSON.stringify({ notes: await notes.count(), latest: (await notes.find({ order: { id: 'DESC' }, take: 1 }))[0]?.body }));
} finally {
  await dataSource.destroy(); // ends the pool: dbswitch closes its connections (and the SSH tunnel)
}
