import { constants } from 'node:os';
import type { Db } from './db.js';

/** Options of {@link closeOnSignals}. */
export interface CloseOnSignalsOptions {
  /** The signals that start the shutdown. Default: `['SIGTERM', 'SIGINT']`. */
  readonly signals?: readonly NodeJS.Signals[];
  /**
   * What else to close at the first signal, run alongside `db.close()`: whatever would keep the
   * process alive otherwise, such as an HTTP server (`() => new Promise((done) => server.close(() => done()))`).
   */
  readonly also?: readonly (() => Promise<void> | void)[];
}

const DEFAULT_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * Closes `db` when the process gets SIGTERM or SIGINT: sessions in flight finish (up to
 * `pool.closeTimeoutMs`, then what still runs is cancelled on the server), new sessions get
 * ECLOSED, and the process exits by itself, with code 0, once nothing else keeps it alive.
 * dbswitch listens for no signal unless this is called; it returns the function that stops
 * listening.
 *
 * A listener for a signal replaces Node's default of exiting at once; so during the shutdown a
 * second signal exits at once (code 128 + the signal's number), and once the Db and `also` are
 * closed the listeners are removed, so a later signal again ends the process as it would have
 * without them. A failure to close sets exit code 1 and is written to stderr.
 *
 * @example
 * const db = await createDb();
 * closeOnSignals(db);
 *
 * @example
 * // An HTTP server too: stop accepting requests while the sessions in flight finish.
 * const server = app.listen(3000);
 * closeOnSignals(db, { also: [() => new Promise<void>((done) => server.close(() => done()))] });
 */
export function closeOnSignals(db: Pick<Db, 'close'>, options: CloseOnSignalsOptions = {}): () => void {
  const signals = [...(options.signals ?? DEFAULT_SIGNALS)];
  const also = [...(options.also ?? [])];
  const listen = (listener: (signal: NodeJS.Signals) => void): void => {
    for (const signal of signals) process.on(signal, listener);
  };
  const stopListening = (listener: (signal: NodeJS.Signals) => void): void => {
    for (const signal of signals) process.removeListener(signal, listener);
  };
  const exitNow = (signal: NodeJS.Signals): void => {
    process.exit(128 + constants.signals[signal]);
  };
  const onSignal = (): void => {
    stopListening(onSignal);
    listen(exitNow);
    void shutDown(db, also).finally(() => {
      stopListening(exitNow);
    });
  };
  listen(onSignal);
  return () => {
    stopListening(onSignal);
    stopListening(exitNow);
  };
}

/** Closes the Db and `also`, side by side; reports what failed (exit code 1, stderr). */
async function shutDown(db: Pick<Db, 'close'>, also: readonly (() => Promise<void> | void)[]): Promise<void> {
  const closing = [db.close(), ...also.map((close) => Promise.resolve().then(close))];
  for (const result of await Promise.allSettled(closing)) {
    if (result.status === 'fulfilled') continue;
    process.exitCode = 1;
    console.error('dbswitch: closing on a signal failed:', result.reason);
  }
}
