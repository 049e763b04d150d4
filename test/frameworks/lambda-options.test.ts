// withDbSession without a database: its options, its lazy and retryable Db, and its deadline,
// on the source (the published package's behaviour is test/frameworks/lambda.test.ts's).
import { describe, expect, it } from 'vitest';
import { isDbSwitchError } from '../../src/errors.js';
import { withDbSession } from '../../src/integrations/lambda/index.js';
import { emptyDir } from '../support/test-db.js';

const context = (remainingMs: number): { getRemainingTimeInMillis: () => number } => {
  const deadline = Date.now() + remainingMs;
  return { getRemainingTimeInMillis: () => deadline - Date.now() };
};

/** A port nothing listens on: a statement fails at once with ECONNECT. */
const NOWHERE = { DB_TYPE: 'basic', DB_HOST: '127.0.0.1', DB_PORT: '1', DB_USER: 'nobody', DB_LOG_LEVEL: 'silent' };

async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
    return 'ok';
  } catch (err) {
    return isDbSwitchError(err) ? err.code : String(err);
  }
}

describe('withDbSession', () => {
  it('refuses a margin that is not a number of ms >= 0 or false, and db together with options (EUSAGE)', () => {
    for (const timeoutMarginMs of [-1, Number.NaN, Number.POSITIVE_INFINITY, '500']) {
      expect(() => withDbSession(() => 1, { timeoutMarginMs } as never)).toThrow(expect.objectContaining({ code: 'EUSAGE' }));
    }
    expect(() => withDbSession(() => 1, { db: {}, options: {} } as never)).toThrow(expect.objectContaining({ code: 'EUSAGE' }));
    expect(() => withDbSession('handler' as never)).toThrow(expect.objectContaining({ code: 'EUSAGE' }));
  });

  it('makes its Db on the first invocation, once for concurrent first invocations, and again after a failure', async () => {
    let made = 0;
    const env: Record<string, string> = { DB_TYPE: 'basic', DB_LOG_LEVEL: 'silent' };
    const handler = withDbSession(() => 'ok', { options: { env, cwd: emptyDir, configure: () => { made++; } } });
    expect(made).toBe(0);
    // DB_USER missing: this invocation fails, and the environment is not stuck with the failure.
    expect(await codeOf(handler({}, context(3000)))).toBe('ECONFIG');
    env['DB_USER'] = 'app';
    expect(await Promise.all([handler({}, context(3000)), handler({}, context(3000))])).toEqual(['ok', 'ok']);
    expect(await handler({}, context(3000))).toBe('ok');
    expect(made).toBe(1);
  });

  it('aborts the session timeoutMarginMs before the invocation times out; later statements are refused', async () => {
    const handler = withDbSession(
      async (_event: unknown, _context, session) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return codeOf(session.query('SELECT 1'));
      },
      { options: { env: NOWHERE, cwd: emptyDir } },
    );
    // 600 ms left, 500 ms margin: aborted at ~100 ms, before the statement.
    expect(await handler({}, context(600))).toBe('ESESSION_RELEASED');
    // With time enough, the statement is tried (and fails to connect: no server there).
    expect(await handler({}, context(5000))).toBe('ECONNECT');
  });

  it('sets no deadline with timeoutMarginMs: false, nor for a context without getRemainingTimeInMillis', async () => {
    const slowly = async (_event: unknown, _context: unknown, session: { query: (sql: string) => Promise<unknown> }): Promise<string> => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      return codeOf(session.query('SELECT 1'));
    };
    const options = { env: NOWHERE, cwd: emptyDir };
    expect(await withDbSession(slowly, { options, timeoutMarginMs: false })({}, context(100))).toBe('ECONNECT');
    expect(await withDbSession(slowly, { options })({}, {} as never)).toBe('ECONNECT');
  });
});
