// dbswitch/lambda: withDbSession(handler) for AWS Lambda's Node.js runtime. One Db per execution
// environment, made on the first invocation; one session per invocation, released before the
// invocation's promise settles; nothing that keeps the event loop busy between invocations.
// The Lambda types it needs are declared here: @types/aws-lambda is not required.
export { withDbSession, DEFAULT_TIMEOUT_MARGIN_MS, type WithDbSessionOptions } from './with-db-session.js';
export type { DbSessionHandler, LambdaContext, LambdaHandler } from './lambda-slices.js';
