// @ts-check
// basic: dbswitch getDb() against raw mysql2 pool.query, same server, same pool size.
import mysql from 'mysql2/promise';
import { createDb } from '../dist/index.js';
import { compare, fetchMs, header, table, throughput } from './measure.js';

/**
 * @param {{ host: string; port: number; user: string; password: string; database: string }} database
 * @param {string} cwd
 */
export async function benchBasic(database, cwd) {
  const db = await createDb({
    env: { DB_HOST: database.host, DB_PORT: String(database.port), DB_USER: database.user, DB_PASSWORD: database.password, DB_NAME: database.database, DB_LOG_LEVEL: 'warn' },
    cwd,
  });
  const pool = mysql.createPool({ ...database, connectionLimit: 10, supportBigNumbers: true });
  try {
    const measured = await compare(
      { dbswitch: (sql) => db.withSession((s) => s.query(sql)), mysql2: (sql) => pool.query(sql) },
      {
        'SELECT 1, concurrency 1 (ops/s)': (run) => throughput(run, 1),
        'SELECT 1, concurrency 16 (ops/s)': (run) => throughput(run, 16),
        '20 MB result (ms)': (run) => fetchMs(run, 'SELECT * FROM big'),
      },
    );
    console.log(`\n## basic\n\n${header()}\n\n${table(measured, ['dbswitch', 'mysql2'])}`);
  } finally {
    await db.close();
    await pool.end();
  }
}
