// dbswitch/lambda's published types with @types/aws-lambda, as users compile them:
// withDbSession's result is a Handler, the event and context types flow into the handler.
// (Without @types/aws-lambda, and the misuses refused: test/support/lambda-typing.ts, compiled
// by lambda.test.ts.)
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, expect, it } from 'vitest';
import { consumerProject } from '../support/consumer-project.js';

const run = promisify(execFile);

let consumer = '';
beforeAll(async () => {
  consumer = await consumerProject();
}, 300_000);

const STRICT = {
  strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, skipLibCheck: false,
  module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, types: ['node'],
};

interface Compiled {
  /** tsc's diagnostics, '' when none. */
  readonly errors: string;
  /** The files the program read. */
  readonly files: string[];
}

/** Compiles `source` as `app.ts` of an ESM project of its own under strict options (with @types/aws-lambda: the project imports it). */
async function compile(folder: string, source: string): Promise<Compiled> {
  const dir = join(consumer, folder);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: folder, private: true, type: 'module' }));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: STRICT, files: ['app.ts'] }));
  writeFileSync(join(dir, 'app.ts'), source);
  const tsc = [join(consumer, 'node_modules/typescript/bin/tsc'), '-p', dir, '--listFiles'];
  try {
    // Generous: test files compile side by side on a small machine, each reading the AWS SDK's types.
    const { stdout } = await run(process.execPath, tsc, { cwd: dir, timeout: 150_000 });
    return { errors: '', files: stdout.split('\n').filter(Boolean) };
  } catch (err) {
    const output = String((err as { stdout?: string }).stdout ?? err);
    // --listFiles prints the program's files too: keep the diagnostics.
    return { errors: [String(err), ...output.split('\n').filter((line) => !line.startsWith('/'))].join('\n'), files: [] };
  }
}

const WITH_AWS_TYPES = `import type { APIGatewayProxyEvent, APIGatewayProxyHandler, APIGatewayProxyResult, Context, Handler, SQSHandler } from 'aws-lambda';
import type { RowDataPacket } from 'dbswitch';
import { withDbSession } from 'dbswitch/lambda';

export const api: Handler<APIGatewayProxyEvent, APIGatewayProxyResult> = withDbSession(async (event, context, session) => {
  const [rows] = await session.query<RowDataPacket[]>('SELECT ? AS id, ? AS request', [event.pathParameters?.['id'] ?? null, context.awsRequestId]);
  return { statusCode: 200, body: JSON.stringify(rows[0]) };
});
export const proxy: APIGatewayProxyHandler = withDbSession(async (_event, _context, _session) => ({ statusCode: 204, body: '' }));
export const queue: SQSHandler = withDbSession(async (event, _context, session) => {
  for (const record of event.Records) await session.execute('SELECT ?', [record.body]);
});
export const annotated = withDbSession(async (event: APIGatewayProxyEvent, context: Context, session) => {
  await session.query('SELECT ?', [context.functionName]);
  return event.path;
});
`;

let aws: Compiled = { errors: 'not compiled', files: [] };
beforeAll(async () => {
  aws = await compile('lambda-types-aws', WITH_AWS_TYPES);
}, 180_000);

it("fit @types/aws-lambda's Handler, APIGatewayProxyHandler and SQSHandler, the event and context inferred", () => {
  expect(aws.errors).toBe('');
  expect(aws.files.some((file) => file.includes('/@types/aws-lambda/'))).toBe(true);
});
