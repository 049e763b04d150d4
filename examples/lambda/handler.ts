// An AWS Lambda function on dbswitch. DB_TYPE (basic, aws or ssh) and the DB_* / SSH_* variables
// of the function decide how it reaches MySQL; the code is the same for each. See README.md.
//
// Build: npx tsc -p tsconfig.json (in an ESM project: "type": "module"); handler: dist/handler.handler.
// Try it locally, as the runtime calls it (the process exits by itself afterwards, nothing to close):
//   DB_USER=app DB_PASSWORD=... node --input-type=module -e "const { handler } = await import('./dist/handler.js');
//     console.log(await handler({ name: 'you' }, { getRemainingTimeInMillis: () => 3000 }))"
import type { RowDataPacket } from 'dbswitch';
import { withDbSession } from 'dbswitch/lambda';

interface GreetingEvent {
  readonly name: string;
}

// One Db per execution environment, made on the first invocation; one session per invocation,
// released before the result is returned (also when the handler throws).
export const handler = withDbSession(async (event: GreetingEvent, _context, session) => {
  const [rows] = await session.query<RowDataPacket[]>('SELECT CONCAT(?, ?) AS greeting, CONNECTION_ID() AS connection', ['Hello, ', event.name]);
  return rows[0];
});
