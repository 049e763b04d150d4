/** A wait for the first SIGINT or SIGTERM, listening from the moment it is made. */
export interface SignalWait {
  /** Resolves with the signal's name. */
  readonly received: Promise<NodeJS.Signals>;
  /** Stops listening (also done when a signal arrives). */
  stop(): void;
}

/** Listens for SIGINT and SIGTERM now; the handlers are removed on the first one, or by stop(). */
export function untilSignal(): SignalWait {
  let stop = (): void => undefined;
  const received = new Promise<NodeJS.Signals>((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      stop();
      resolve(signal);
    };
    stop = () => {
      process.removeListener('SIGINT', on);
      process.removeListener('SIGTERM', on);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
  return { received, stop };
}
