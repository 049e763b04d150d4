/** One statement settles exactly once, whatever the order of answer, give-up and loss. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StatementRequest } from '../../src/db-session.js';
import { RunningStatement, type StatementResult } from '../../src/pool/running-statement.js';
import { giveUpError } from '../../src/pool/give-up-error.js';
import { watch } from './fakes/pool-harness.js';

describe('RunningStatement', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  const RESULT: StatementResult = [[{ x: 1 }], []];
  const request = (overrides: Partial<StatementRequest> = {}): StatementRequest => ({
    method: 'query',
    sql: 'SELECT 1',
    values: undefined,
    timeoutMs: 0,
    signal: undefined,
    ...overrides,
  });
  const released = giveUpError({ kind: 'released' }, true);

  it('resolves with the answer, and later give-ups and losses change nothing', async () => {
    const statement = new RunningStatement(request(), () => undefined);
    statement.markSent();
    statement.answer(null, RESULT);
    expect(statement.giveUp(released)).toBe(false);
    statement.lose(new Error('lost'));
    statement.answer(new Error('second answer'), undefined);
    await expect(statement.promise).resolves.toBe(RESULT);
    expect(statement.phase).toBe('settled');
  });

  it('rejects with the server’s error, untouched', async () => {
    const statement = new RunningStatement(request(), () => undefined);
    const duplicate = Object.assign(new Error('Duplicate entry'), { code: 'ER_DUP_ENTRY' });
    statement.markSent();
    statement.answer(duplicate, undefined);
    await expect(statement.promise).rejects.toBe(duplicate);
  });

  it('given up while queued: rejects at once, settled, never sent', async () => {
    const statement = new RunningStatement(request(), () => undefined);
    expect(statement.giveUp(released)).toBe(false);
    expect(statement.phase).toBe('settled');
    statement.markSent();
    expect(statement.phase).toBe('settled');
    statement.answer(null, RESULT);
    await expect(statement.promise).rejects.toBe(released);
  });

  it('given up while sent: rejects at once and stays abandoned until the server answers', async () => {
    const statement = new RunningStatement(request(), () => undefined);
    statement.markSent();
    expect(statement.giveUp(released)).toBe(true);
    await expect(statement.promise).rejects.toBe(released);
    expect(statement.phase).toBe('abandoned');
    const answered = watch(statement.answered);
    await Promise.resolve();
    expect(answered.state).toBe('pending');
    expect(statement.giveUp(giveUpError({ kind: 'closed' }, true))).toBe(false);
    statement.answer(Object.assign(new Error('interrupted'), { code: 'ER_QUERY_INTERRUPTED' }), undefined);
    expect(statement.phase).toBe('settled');
    await statement.answered;
    await expect(statement.promise).rejects.toBe(released);
  });

  it('abandoned, then the connection is lost: settled, and the caller keeps the first error', async () => {
    const statement = new RunningStatement(request(), () => undefined);
    statement.markSent();
    statement.giveUp(released);
    statement.lose(new Error('lost'));
    expect(statement.phase).toBe('settled');
    await statement.answered;
    await expect(statement.promise).rejects.toBe(released);
  });

  it('lost before any answer: rejects with the loss', async () => {
    const statement = new RunningStatement(request(), () => undefined);
    statement.markSent();
    const lost = new Error('lost');
    statement.lose(lost);
    statement.answer(null, RESULT);
    await expect(statement.promise).rejects.toBe(lost);
    expect(statement.phase).toBe('settled');
  });

  it('asks to give up once at its timeout, and not after it was answered', async () => {
    const giveUp = vi.fn();
    const slow = new RunningStatement(request({ timeoutMs: 500 }), giveUp);
    slow.markSent();
    await vi.advanceTimersByTimeAsync(499);
    expect(giveUp).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(giveUp).toHaveBeenCalledTimes(1);
    expect(giveUp).toHaveBeenCalledWith(slow, { kind: 'timeout', timeoutMs: 500 });

    const quick = vi.fn();
    const fast = new RunningStatement(request({ timeoutMs: 500 }), quick);
    fast.markSent();
    fast.answer(null, RESULT);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(quick).not.toHaveBeenCalled();
    await expect(fast.promise).resolves.toBe(RESULT);
    slow.giveUp(giveUpError({ kind: 'timeout', timeoutMs: 500 }, true));
    await expect(slow.promise).rejects.toMatchObject({ code: 'ETIMEOUT' });
  });

  it('asks to give up when its signal aborts, and stops listening once settled', async () => {
    const controller = new AbortController();
    const giveUp = vi.fn();
    const statement = new RunningStatement(request({ signal: controller.signal }), giveUp);
    statement.markSent();
    statement.answer(null, RESULT);
    controller.abort();
    expect(giveUp).not.toHaveBeenCalled();
    await expect(statement.promise).resolves.toBe(RESULT);

    const second = new AbortController();
    const onAbort = vi.fn();
    const pending = new RunningStatement(request({ signal: second.signal }), onAbort);
    pending.markSent();
    second.abort('stop');
    expect(onAbort).toHaveBeenCalledWith(pending, { kind: 'aborted', reason: 'stop' });
    pending.lose(new Error('closed'));
    await expect(pending.promise).rejects.toThrow('closed');
  });

  it('names the setting to change and whether the statement is being killed', () => {
    expect(giveUpError({ kind: 'timeout', timeoutMs: 500 }, true).message).toMatch(/500 ms.*DB_STATEMENT_TIMEOUT_MS.*KILL QUERY/);
    expect(giveUpError({ kind: 'aborted', reason: 'x' }, false)).toMatchObject({ code: 'ECANCELLED', cause: 'x' });
    expect(giveUpError({ kind: 'aborted', reason: 'x' }, false).message).toContain('had not been sent');
    expect(giveUpError({ kind: 'closed' }, true).message).toContain('DB_POOL_CLOSE_TIMEOUT_MS');
  });
});
