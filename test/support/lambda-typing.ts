// Compiled (never run) with the handlers of test/frameworks/lambda.test.ts, in a project without
// @types/aws-lambda: dbswitch/lambda's own types as a user writes against them, and the misuses
// they refuse (each @ts-expect-error fails the compile if its line is accepted).
import { closeOnSignals, createDb, type RowDataPacket } from 'dbswitch';
import { withDbSession, type LambdaContext, type LambdaHandler } from 'dbswitch/lambda';

interface OrderEvent {
  readonly orderId: number;
}

export const handler: LambdaHandler<OrderEvent, RowDataPacket | undefined> = withDbSession(async (event: OrderEvent, context, session) => {
  const left: number = context.getRemainingTimeInMillis();
  const [rows] = await session.query<RowDataPacket[]>({ sql: 'SELECT ? AS id', timeout: left }, [event.orderId]);
  return rows[0];
});

export const withOptions = withDbSession(async (_event: unknown, _context: LambdaContext, session) => session.execute('SELECT 1'), {
  options: { env: { DB_TYPE: 'basic', DB_USER: 'app' } },
  timeoutMarginMs: 1000,
});

const db = await createDb();
export const shared = withDbSession(() => 'no statement', { db, timeoutMarginMs: false });
// A Db of your own can be closed when Lambda sends SIGTERM (it does when an extension is registered).
export const stopListening: () => void = closeOnSignals(db, { signals: ['SIGTERM'], also: [() => undefined, async () => Promise.resolve()] });

// @ts-expect-error: either a Db of your own or options for the one it makes
withDbSession(() => 1, { db, options: {} });
// @ts-expect-error: a margin is a number of ms, or false
withDbSession(() => 1, { timeoutMarginMs: '500' });
// @ts-expect-error: `also` takes functions
closeOnSignals(db, { also: [Promise.resolve()] });
// @ts-expect-error: the handler's result is a promise
export const notAPromise: string = handler({ orderId: 1 }, { getRemainingTimeInMillis: () => 3000 });
