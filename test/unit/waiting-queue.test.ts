// The queue of sessions waiting for a connection (src/pool/waiting-queue.ts): first come, first
// served, each failed at its own deadline by one timer for the whole queue, which holds the
// process only while someone waits.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { settling } from '../../src/db-session.js';
import { WaitingQueue } from '../../src/pool/waiting-queue.js';

afterEach(() => {
  vi.useRealTimers();
});

/** The queue's callback as a promise, for tests that await the outcome. */
function waitIn<C>(queue: WaitingQueue<C>, deadline: number): Promise<C> {
  return new Promise<C>((resolve, reject) => {
    queue.wait(deadline, settling(resolve, reject));
  });
}

/** Ref'd timers: what keeps the process alive. */
function heldTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}

describe('WaitingQueue', () => {
  it('serves the sessions in the order they asked', async () => {
    const queue = new WaitingQueue<string>(() => new Error('late'));
    const first = waitIn(queue, Date.now() + 1000);
    const second = waitIn(queue, Date.now() + 1000);
    expect(queue.serve('a')).toBe(true);
    expect(queue.serve('b')).toBe(true);
    expect(queue.serve('c')).toBe(false);
    expect(await Promise.all([first, second])).toEqual(['a', 'b']);
  });

  it('fails each session at its own deadline, one queued later with an earlier deadline included', async () => {
    vi.useFakeTimers({ now: 0 });
    let expired = 0;
    const queue = new WaitingQueue<string>(() => new Error(`late ${++expired}`));
    const settled: string[] = [];
    const track = (name: string, waiting: Promise<string>): void => {
      waiting.then(
        () => settled.push(`${name} served`),
        (err: unknown) => settled.push(`${name} at ${Date.now()}: ${(err as Error).message}`),
      );
    };
    track('slow', waitIn(queue, 1000));
    track('served', waitIn(queue, 1200));
    // A session that spent its time pre-pinging idle connections comes with an earlier deadline.
    track('early', waitIn(queue, 300));
    await vi.advanceTimersByTimeAsync(299);
    expect(settled).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(settled).toEqual(['early at 300: late 1']);
    await vi.advanceTimersByTimeAsync(700);
    expect(settled).toEqual(['early at 300: late 1', 'slow at 1000: late 2']);
    expect(queue.serve('conn')).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(settled).toEqual(['early at 300: late 1', 'slow at 1000: late 2', 'served served']);
    expect(queue.length).toBe(0);
  });

  it('holds the process while a session waits, and not once nobody does', async () => {
    const before = heldTimers();
    const queue = new WaitingQueue<string>(() => new Error('late'));
    const waiting = waitIn(queue, Date.now() + 60_000);
    expect(heldTimers()).toBe(before + 1);
    queue.serve('conn');
    await waiting;
    expect(heldTimers()).toBe(before);
    // Waiting again holds it again, and failing everyone lets go.
    const again = waitIn(queue, Date.now() + 60_000);
    expect(heldTimers()).toBe(before + 1);
    expect(queue.failAll(new Error('closed'))).toBe(1);
    await expect(again).rejects.toThrow('closed');
    expect(heldTimers()).toBe(before);
  });
});
