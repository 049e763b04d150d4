// The slice of AWS Lambda's Node.js handler contract that dbswitch/lambda uses, declared here so
// that the published types need no @types/aws-lambda. Its `Context` and `Handler` fit these
// shapes, so a handler typed with them works unchanged.
import type { DbSession } from '../../db-session.js';

/**
 * What dbswitch/lambda reads of the invocation's context object: only the time left. Lambda's
 * own `Context` (from @types/aws-lambda) has it, and more, and can be used in its place.
 */
export interface LambdaContext {
  /** Milliseconds left before Lambda stops this invocation (its configured timeout). */
  getRemainingTimeInMillis(): number;
}

/**
 * A handler that receives the invocation's session beside the event and the context.
 *
 * @example
 * const getUser: DbSessionHandler<{ id: number }, RowDataPacket | undefined> = async (event, _context, session) =>
 *   (await session.query<RowDataPacket[]>('SELECT * FROM user WHERE id = ?', [event.id]))[0][0];
 */
export type DbSessionHandler<TEvent, TResult, TContext extends LambdaContext = LambdaContext> = (
  event: TEvent,
  context: TContext,
  session: DbSession,
) => Promise<TResult> | TResult;

/**
 * An async Lambda handler, as the Node.js runtime calls it: assignable to @types/aws-lambda's
 * `Handler<TEvent, TResult>` (it takes no callback; the returned promise is the result).
 */
export type LambdaHandler<TEvent, TResult, TContext extends LambdaContext = LambdaContext> = (event: TEvent, context: TContext) => Promise<TResult>;
