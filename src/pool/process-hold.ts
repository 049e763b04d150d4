import type { ProvidedConnection } from '../db-provider.js';
import type { ConnectionDriver } from './connection-driver.js';

/** Whether a connection keeps the process alive: yes while in use, no while idle. */
export interface ProcessHold {
  hold(): void;
  letGo(): void;
}

/**
 * The provider's hold/letGo for a connection, or ref/unref of its socket, made idempotent (a
 * provider may count holds, as the ssh tunnel does). A connection is handed over held.
 */
export function processHold(provided: ProvidedConnection, driver: Pick<ConnectionDriver, 'stream'>): ProcessHold {
  let held = true;
  return {
    hold() {
      if (held) return;
      held = true;
      if (provided.hold !== undefined) provided.hold();
      else refStream(driver.stream(provided.connection), true);
    },
    letGo() {
      if (!held) return;
      held = false;
      if (provided.letGo !== undefined) provided.letGo();
      else refStream(driver.stream(provided.connection), false);
    },
  };
}

/** Sockets can be ref'd and unref'd; other streams (a channel) hold nothing themselves. */
function refStream(stream: object | undefined, ref: boolean): void {
  const socket = stream as { ref?: () => void; unref?: () => void } | undefined;
  if (ref) socket?.ref?.();
  else socket?.unref?.();
}
