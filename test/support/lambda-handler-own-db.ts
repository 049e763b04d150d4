// A handler of test/frameworks/lambda.test.ts on a Db of its own (withDbSession's `db` option);
// `probe()` is read by the local runtime in the same turn as the invocation's promise settles.
import { createDb, type PoolStats, type RowDataPacket } from 'dbswitch';
import { withDbSession } from 'dbswitch/lambda';

const db = await createDb(); // INIT: reads the environment, connects nothing

export const handler = withDbSession(
  async (_event: unknown, _context, session) => {
    const [rows] = await session.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id');
    return rows[0];
  },
  { db },
);

export function probe(): PoolStats {
  return db.stats;
}
