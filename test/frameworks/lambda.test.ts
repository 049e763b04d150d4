// dbswitch/lambda as a function runs it: handlers compiled in a project of their own against the
// published package, invoked by a local stand-in for the Lambda Node.js runtime
// (test/support/lambda-runtime.ts), over basic and ssh, and the example (examples/lambda) over
// basic, ssh and aws (RDS IAM, as root). Between invocations nothing of dbswitch may keep the
// event loop alive; "freezing" is SIGSTOP, so a server that drops the connections meanwhile is
// noticed only at the thaw, as in Lambda.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useBastion } from '../support/bastion.js';
import { consumerProject } from '../support/consumer-project.js';
import { faultEnv, PROVIDERS, processlist, runningStatements, sharedServer, sleep, useFaultLogin, type FaultServer, type Provider } from '../support/faults.js';
import { compileHandlers, startEnvironment, type CompiledHandlers, type Invocation, type LambdaEnvironment } from '../support/lambda-runtime.js';
import { AS_ROOT, ORM_PROVIDERS, ormEnv, useIamServer, type OrmProvider } from '../support/orm-kdk-harness.js';
import { eventually } from '../support/test-db.js';

const HANDLER = fileURLToPath(new URL('../support/lambda-handler.ts', import.meta.url));
const HANDLER_OWN_DB = fileURLToPath(new URL('../support/lambda-handler-own-db.ts', import.meta.url));
const TYPING = fileURLToPath(new URL('../support/lambda-typing.ts', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../examples/lambda/handler.ts', import.meta.url));

/** After its last invocation, how soon the runtime must have exited by itself (lingerMs is 10 s, idleTimeoutMs 60 s). */
const EXIT_BOUND_MS = 1500;

const login = useFaultLogin('lambda', () => sharedServer);
const bastion = useBastion();
// For the example over aws: a MariaDB of the file's own that logs iam_user in with RDS IAM tokens (root only).
const iam = useIamServer();

// The handlers, the example and the typing checks: one program, compiled as a user's project
// without @types/aws-lambda (lambda-types.test.ts compiles one with it).
let compiled: CompiledHandlers = { dist: '', programFiles: [] };
let handlers = '';
beforeAll(async () => {
  const compiling = consumerProject().then((consumer) => compileHandlers(consumer, 'lambda-handlers', [HANDLER, HANDLER_OWN_DB, EXAMPLE, TYPING]));
  [compiled] = await Promise.all([compiling, iam.start()]);
  handlers = compiled.dist;
}, 420_000);

const started = new Set<LambdaEnvironment>();
afterEach(async () => {
  await Promise.all([...started].map((environment) => environment.stop()));
  started.clear();
});

async function environment(provider: Provider, overrides: Record<string, string> = {}, module = join(handlers, 'lambda-handler.js')): Promise<LambdaEnvironment> {
  return launch(module, faultEnv(provider, sharedServer, login, bastion, overrides));
}

/** Starts an execution environment of `module` with `env`; checks that its INIT opened nothing. */
async function launch(module: string, env: Record<string, string>): Promise<LambdaEnvironment> {
  const lambda = await startEnvironment(module, env);
  started.add(lambda);
  // INIT (importing the module) opened nothing.
  expect(lambda.initHandles).toEqual([]);
  return lambda;
}

type Connection = { id: number; inTransaction: number; leftBehind: number | null };

function succeeded<T>(reply: Invocation<T>): T {
  if (!reply.ok) throw new Error(`the invocation failed: ${JSON.stringify(reply.error)}`);
  // Nothing of dbswitch keeps the event loop alive between invocations.
  expect(reply.handles).toEqual([]);
  return reply.result;
}

/** KILL CONNECTION, as wait_timeout or a failover would; waits until the server let go. */
async function killOnServer(id: number): Promise<void> {
  await sharedServer.admin(`KILL CONNECTION ${id}`);
  expect(await eventually(async () => !(await processlist(sharedServer, login.user)).some((row) => row.ID === id), 3000)).toBe(true);
}

it('compiles without @types/aws-lambda (strict, exactOptionalPropertyTypes, skipLibCheck false): the program never reads it', () => {
  expect(compiled.programFiles.some((file) => file.includes('/dbswitch/dist/integrations/lambda/'))).toBe(true);
  expect(compiled.programFiles.filter((file) => file.includes('aws-lambda'))).toEqual([]);
});

describe.each(PROVIDERS)('over %s', (provider) => {
  it('warm invocations reuse one connection; nothing keeps the event loop alive; the runtime exits by itself after the last', async () => {
    const lambda = await environment(provider);
    // Lazy: INIT connected nothing.
    expect(await processlist(sharedServer, login.user)).toEqual([]);
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push(succeeded(await lambda.invoke<Connection>({ action: 'connection' })).id);
    expect(new Set(ids).size).toBe(1);
    expect((await processlist(sharedServer, login.user)).map((row) => row.ID)).toEqual([ids[0]]);
    // No close(): the environment just runs out of work.
    lambda.end();
    const exit = await lambda.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.at - (lambda.endedAt() ?? 0)).toBeLessThan(EXIT_BOUND_MS);
    expect(await eventually(async () => (await processlist(sharedServer, login.user)).length === 0, 3000)).toBe(true);
  });

  // Regression: over ssh, the invocation was read before the channel's EOF that came with it, its
  // statement went to the dead connection and failed as ECONNECTION_LOST (in 1 of ~3 thaws).
  it('thaws without an error after the server dropped the connection while the environment was frozen (KILL)', async () => {
    const lambda = await environment(provider);
    let id = succeeded(await lambda.invoke<Connection>({ action: 'connection' })).id;
    for (let round = 0; round < 8; round++) {
      lambda.freeze();
      await killOnServer(id);
      // The invocation waits at the thaw together with the news of the dropped connection.
      lambda.send({ action: 'connection' });
      await sleep(100);
      lambda.thaw();
      const next = succeeded(await lambda.next<Connection>());
      expect(next.id).not.toBe(id);
      id = next.id;
    }
  });
});

describe('over basic', () => {
  it('thaws without an error after the frozen environment idled past wait_timeout', async () => {
    // wait_timeout for this user's connections only (set on each new one), so the shared server keeps its own.
    const lambda = await environment('basic', { DB_INIT_SQL: 'SET SESSION wait_timeout = 1' });
    const first = succeeded(await lambda.invoke<Connection>({ action: 'connection' })).id;
    lambda.freeze();
    expect(await eventually(async () => !(await processlist(sharedServer, login.user)).some((row) => row.ID === first), 5000)).toBe(true);
    lambda.send({ action: 'connection' });
    await sleep(100);
    lambda.thaw();
    const next = succeeded(await lambda.next<Connection>());
    expect(next.id).not.toBe(first);
  });

  it('aborts the session before the invocation times out: the statement is killed on the server, the next invocation runs', async () => {
    const lambda = await environment('basic');
    // 1500 ms left, minus the 500 ms margin: the statement is given up on at ~1000 ms.
    const reply = await lambda.invoke({ action: 'sleep', seconds: 20 }, 1500);
    expect(reply.ok).toBe(false);
    if (reply.ok) return;
    expect(reply.error).toMatchObject({ code: 'ECANCELLED', cause: { code: 'ETIMEOUT' } });
    expect(reply.ms).toBeGreaterThanOrEqual(900);
    expect(reply.ms).toBeLessThan(1500);
    expect(reply.handles).toEqual([]);
    expect(await runningStatements(sharedServer, login.user)).toEqual([]);
    succeeded(await lambda.invoke<Connection>({ action: 'connection' }));
  });

  it('releases the session when the handler throws: its transaction rolled back, its state reset, the session refused afterwards', async () => {
    const lambda = await environment('basic');
    const before = succeeded(await lambda.invoke<Connection>({ action: 'connection' }));
    const failed = await lambda.invoke({ action: 'fail' });
    expect(failed).toMatchObject({ ok: false, error: { message: 'the handler failed' }, handles: [] });
    // The failed invocation's session, used by the next one: it was released.
    expect(succeeded(await lambda.invoke({ action: 'use-previous-session' }))).toBe('ESESSION_RELEASED');
    const after = succeeded(await lambda.invoke<Connection>({ action: 'connection' }));
    expect(after).toEqual({ id: before.id, inTransaction: 0, leftBehind: null });
  });

  it('has released the session by the time the invocation settles (a Db of your own, withDbSession({ db }))', async () => {
    const lambda = await environment('basic', {}, join(handlers, 'lambda-handler-own-db.js'));
    for (let i = 0; i < 2; i++) {
      const reply = await lambda.invoke({});
      succeeded(reply);
      expect(reply.probe).toMatchObject({ open: 1, idle: 1, leased: 0, waiting: 0 });
    }
  });
});

/** Where the example runs over `provider`: its environment, the server it reaches, and its user there. */
function exampleTarget(provider: OrmProvider): { env: Record<string, string>; server: FaultServer; user: string } {
  if (provider !== 'aws') return { env: faultEnv(provider, sharedServer, login, bastion), server: sharedServer, user: login.user };
  const { server } = iam.current;
  const admin = async <T>(sql: string, values?: unknown[]): Promise<T> => {
    const connection = await server.admin();
    try {
      return (await connection.query(sql, values))[0] as T;
    } finally {
      await connection.end();
    }
  };
  return { env: ormEnv('aws', undefined, bastion, iam), server: { port: server.port, admin }, user: 'iam_user' };
}

describe('the example (examples/lambda)', () => {
  it.for(ORM_PROVIDERS)(
    'over %s: answers, reuses its connection on the warm invocation, keeps nothing alive, and the runtime exits by itself after the last',
    async (provider, { skip }) => {
      if (provider === 'aws' && !AS_ROOT) skip('the IAM sandbox writes to /etc/pam.d: it needs root (CI runs as root)');
      const { env, server, user } = exampleTarget(provider);
      const lambda = await launch(join(handlers, 'handler.js'), env);
      const first = succeeded(await lambda.invoke<{ greeting: string; connection: number }>({ name: 'Lambda' }));
      const second = succeeded(await lambda.invoke<{ greeting: string; connection: number }>({ name: 'again' }));
      expect([first.greeting, second.greeting]).toEqual(['Hello, Lambda', 'Hello, again']);
      expect(second.connection).toBe(first.connection);
      // The one connection the function holds on the server is the one it answered on.
      expect((await processlist(server, user)).map((row) => row.ID)).toEqual([first.connection]);
      lambda.end();
      const exit = await lambda.exited;
      expect(exit).toMatchObject({ code: 0, signal: null });
      expect(exit.at - (lambda.endedAt() ?? 0)).toBeLessThan(EXIT_BOUND_MS);
      expect(lambda.stderr()).toBe('');
      expect(await eventually(async () => (await processlist(server, user)).length === 0, 3000)).toBe(true);
    },
  );
});
