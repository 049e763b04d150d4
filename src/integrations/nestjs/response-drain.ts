import type { ServerResponse } from 'node:http';
import { Injectable } from '@nestjs/common';

/**
 * The responses in flight, so that a shutdown can ask each client to close its connection once
 * its response is sent (`Connection: close`). Nest closes the HTTP server before DbModule closes
 * the Db, and Node's `server.close()` waits for every open connection: a keep-alive connection
 * that falls idle after the close began would otherwise hold the shutdown until the server's
 * keepAliveTimeout.
 */
@Injectable()
export class ResponseDrain {
  #draining = false;
  readonly #open = new Set<ServerResponse>();

  /** Follows `res` until it closes; during a shutdown, its connection closes after it. */
  track(res: ServerResponse): void {
    if (this.#draining) {
      closeAfter(res);
      return;
    }
    this.#open.add(res);
    res.once('close', () => this.#open.delete(res));
  }

  /** From now on, every connection closes after its response in flight (or its next one). */
  drain(): void {
    this.#draining = true;
    for (const res of this.#open) closeAfter(res);
    this.#open.clear();
  }
}

function closeAfter(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('Connection', 'close');
}
