// The handler of test/frameworks/lambda.test.ts, compiled against the published package and run
// by the local Lambda runtime (lambda-runtime.ts). The Db is withDbSession's own, made lazily.
import type { DbSession, RowDataPacket } from 'dbswitch';
import { withDbSession } from 'dbswitch/lambda';

/** What the test asks of an invocation. */
type Event =
  | { readonly action: 'connection' }
  | { readonly action: 'sleep'; readonly seconds: number }
  | { readonly action: 'fail' }
  | { readonly action: 'use-previous-session' };

/** The session of the last invocation, kept against the rules to show it was released. */
let previous: DbSession | undefined;

export const handler = withDbSession(async (event: Event, _context, session) => {
  const last = previous;
  previous = session;
  switch (event.action) {
    case 'connection': {
      const [rows] = await session.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id, @@in_transaction AS inTransaction, @left_behind AS leftBehind');
      return rows[0];
    }
    case 'sleep':
      await session.query('SELECT SLEEP(?)', [event.seconds]);
      return 'slept';
    case 'fail':
      // Work the release must undo: an open transaction and a user variable.
      await session.query('START TRANSACTION');
      await session.query('SET @left_behind = 1');
      throw new Error('the handler failed');
    case 'use-previous-session':
      try {
        await last?.query('SELECT 1');
        return 'the previous session still worked';
      } catch (err) {
        return (err as { code?: string }).code;
      }
  }
});
