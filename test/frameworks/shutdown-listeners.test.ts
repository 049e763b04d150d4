// closeOnSignals' listeners, in this process with a fake Db: what it installs, runs and removes.
// (A real Db under load and real signals: test/frameworks/shutdown.test.ts.)
import { constants } from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeOnSignals } from '../../src/db/close-on-signals.js';

// A signal nobody else here listens for; listeners are called with process.emit, no real signal.
const SIGNAL = 'SIGUSR2';

function fakeDb(close: () => Promise<void> = () => Promise.resolve()): { close: ReturnType<typeof vi.fn<() => Promise<void>>> } {
  return { close: vi.fn(close) };
}

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
  process.exitCode = undefined;
  vi.restoreAllMocks();
});

describe('closeOnSignals', () => {
  it('listens for SIGTERM and SIGINT by default, and nothing once stopped', () => {
    const before = { term: process.listenerCount('SIGTERM'), int: process.listenerCount('SIGINT') };
    const stop = closeOnSignals(fakeDb());
    expect({ term: process.listenerCount('SIGTERM'), int: process.listenerCount('SIGINT') }).toEqual({ term: before.term + 1, int: before.int + 1 });
    stop();
    expect({ term: process.listenerCount('SIGTERM'), int: process.listenerCount('SIGINT') }).toEqual(before);
  });

  it('closes the Db and runs `also` side by side, once; a second signal meanwhile exits at once; then stops listening', async () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation(() => undefined as never);
    let finish = (): void => undefined;
    const db = fakeDb(() => new Promise<void>((resolve) => (finish = resolve)));
    const also = vi.fn();
    stops.push(closeOnSignals(db, { signals: [SIGNAL], also: [also] }));
    process.emit(SIGNAL, SIGNAL);
    await Promise.resolve();
    expect(db.close).toHaveBeenCalledTimes(1);
    expect(also).toHaveBeenCalledTimes(1);
    expect(exit).not.toHaveBeenCalled();
    process.emit(SIGNAL, SIGNAL);
    expect(exit).toHaveBeenCalledWith(128 + constants.signals[SIGNAL]);
    expect(db.close).toHaveBeenCalledTimes(1);
    finish();
    await vi.waitFor(() => {
      expect(process.listenerCount(SIGNAL)).toBe(0);
    });
    expect(process.exitCode).toBeUndefined();
  });

  it('reports a failure to close: exit code 1, the error on stderr, the other closings still run', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const db = fakeDb(() => Promise.reject(new Error('the tunnel would not close')));
    const also = vi.fn();
    stops.push(closeOnSignals(db, { signals: [SIGNAL], also: [() => { throw new Error('the server would not close'); }, also] }));
    process.emit(SIGNAL, SIGNAL);
    await vi.waitFor(() => {
      expect(process.listenerCount(SIGNAL)).toBe(0);
    });
    expect(also).toHaveBeenCalledTimes(1);
    expect(process.exitCode).toBe(1);
    expect(error.mock.calls.map((call) => String(call[1]))).toEqual(['Error: the tunnel would not close', 'Error: the server would not close']);
  });
});
