import type { IncomingMessage } from 'node:http';

/**
 * The requests whose client went away before their response was complete, and whose session
 * dbMiddleware therefore aborted. dbErrorHandler reads it to tell an abort's ECANCELLED from a
 * statement the application cancelled itself (its own AbortSignal), which is a real error.
 */
const aborted = new WeakSet<IncomingMessage>();

export function markAborted(req: IncomingMessage): void {
  aborted.add(req);
}

export function wasAborted(req: IncomingMessage): boolean {
  return aborted.has(req);
}
