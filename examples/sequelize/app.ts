// Sequelize on dbswitch. DB_TYPE (basic, aws or ssh) and the DB_* / SSH_* variables decide how it
// reaches MySQL; the code is the same for each: Sequelize gets dbswitch/mysql2 as its dialect
// module and no host, port, user or password (its default host, localhost, redirects nothing).
// See README.md ("ORMs and query builders").
import { DataTypes, Sequelize, type InferAttributes, type InferCreationAttributes, type CreationOptional, Model } from 'sequelize';
import * as mysql2 from 'dbswitch/mysql2';

const sequelize = new Sequelize({
  dialect: 'mysql',
  dialectModule: mysql2, // the route, the credentials and TLS are dbswitch's; the database is DB_NAME
  logging: false,
  pool: { max: 5, idle: 10_000, evict: 1_000 }, // Sequelize's own pool: see README for what it keeps
});

class Note extends Model<InferAttributes<Note>, InferCreationAttributes<Note>> {
  declare id: CreationOptional<number>;
  declare body: string;
}
Note.init({ id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true }, body: { type: DataTypes.STRING(200), allowNull: false } }, { sequelize, tableName: 'notes', timestamps: false });

try {
  await Note.sync(); // for the example; use migrations in production (dbswitch exec -- ...)
  await Note.create({ body: `written at ${new Date().toISOString()}` });

  // Committed when the callback resolves, rolled back when it throws.
  await sequelize
    .transaction(async (transaction) => {
      await Note.create({ body: 'never stored' }, { transaction });
      throw new Error('changed my mind');
    })
    .catch((err: unknown) => {
      console.log(`rolled back: ${(err as Error).message}`);
    });

  const latest = await Note.findOne({ order: [['id', 'DESC']] });
  console.log(JSON.stringify({ notes: await Note.count(), latest: latest?.body }));
} finally {
  await sequelize.close(); // ends Sequelize's connections; dbswitch's tunnel follows after DB_LINGER_MS
}
