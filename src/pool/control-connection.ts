import type { ProvidedConnection } from '../db-provider.js';
import type { Connection } from '../driver/mysql2.js';
import type { ConnectionDriver } from './connection-driver.js';
import type { Logger } from '../logging/create-logger.js';
import { processHold, type ProcessHold } from './process-hold.js';

/** MariaDB and MySQL answer KILL for a thread that already ended with this error. */
const ER_NO_SUCH_THREAD = 'ER_NO_SUCH_THREAD';

type ControlState =
  | { readonly name: 'none' }
  | { readonly name: 'opening'; readonly connection: Promise<ProvidedConnection> }
  | { readonly name: 'open'; readonly provided: ProvidedConnection; readonly hold: ProcessHold }
  | { readonly name: 'closed' };

/**
 * The pool's one extra connection, opened through the same provider on the first cancel and
 * used only for `KILL QUERY`: a statement given up on (timeout, abort, release) is stopped on
 * the server, so the server never holds more than `pool.max` + 1 connections of this pool.
 * Cancelling is best-effort and time-bounded: over ssh the control channel dies with the tunnel.
 */
export class ControlConnection {
  readonly #open: () => Promise<ProvidedConnection>;
  readonly #logger: Logger;
  readonly #driver: ConnectionDriver;
  #state: ControlState = { name: 'none' };
  #inUse = 0;

  constructor(open: () => Promise<ProvidedConnection>, driver: ConnectionDriver, logger: Logger) {
    this.#open = open;
    this.#driver = driver;
    this.#logger = logger;
  }

  /** Whether it is open now (for stats: the +1). */
  get open(): boolean {
    return this.#state.name === 'open';
  }

  /**
   * Sends `KILL QUERY threadId`, opening the control connection first if needed. Resolves true
   * when the server confirmed (or the thread is gone), false on failure or after `timeoutMs`.
   */
  async kill(threadId: number, timeoutMs: number): Promise<boolean> {
    if (this.#state.name === 'closed' || threadId === 0) return false;
    this.#inUse++;
    let timer: NodeJS.Timeout | undefined;
    try {
      const deadline = new Promise<false>((resolve) => {
        // Ref'd: a cancel in progress keeps the process alive until it is done.
        timer = setTimeout(resolve, timeoutMs, false);
      });
      const killed = await Promise.race([this.#kill(threadId), deadline]);
      // No answer, or an error: the control connection itself may be dead (a NAT dropped it).
      // Later kills must not queue behind this one: the next opens a fresh connection.
      if (!killed) await this.close();
      return killed;
    } finally {
      clearTimeout(timer);
      if (--this.#inUse === 0 && this.#state.name === 'open') this.#state.hold.letGo();
    }
  }

  /** Closes it; a later kill() opens a new one unless `final`. */
  async close(final = false): Promise<void> {
    const state = this.#state;
    this.#state = final ? { name: 'closed' } : { name: 'none' };
    if (state.name === 'open') this.#dispose(state.provided, state.hold);
    else if (state.name === 'opening') await state.connection.catch(() => undefined);
  }

  async #kill(threadId: number): Promise<boolean> {
    let provided: ProvidedConnection;
    try {
      provided = await this.#connection();
    } catch (err) {
      this.#logger.warn({ err: String(err), threadId }, 'cannot open the control connection to cancel a statement');
      return false;
    }
    if (this.#state.name === 'open') this.#state.hold.hold();
    return new Promise<boolean>((resolve) => {
      provided.connection.query(`KILL QUERY ${threadId}`, (err: (Error & { code?: string }) | null) => {
        if (err !== null && err.code !== ER_NO_SUCH_THREAD) {
          this.#logger.warn({ err: err.message, threadId }, 'KILL QUERY failed');
          resolve(false);
          return;
        }
        resolve(true);
      });
    });
  }

  #connection(): Promise<ProvidedConnection> {
    const state = this.#state;
    if (state.name === 'open') return Promise.resolve(state.provided);
    if (state.name === 'opening') return state.connection;
    if (state.name === 'closed') return Promise.reject(new Error('the Db is closed'));
    const connection = this.#open().then(
      (provided) => {
        const hold = processHold(provided, this.#driver);
        if (this.#state.name !== 'opening' || this.#state.connection !== connection) {
          // Closed while opening.
          this.#dispose(provided, hold);
          throw new Error('the Db is closing');
        }
        this.#state = { name: 'open', provided, hold };
        this.#watch(provided.connection, provided, hold);
        return provided;
      },
      (err: unknown) => {
        if (this.#state.name === 'opening') this.#state = { name: 'none' };
        throw err;
      },
    );
    this.#state = { name: 'opening', connection };
    return connection;
  }

  #watch(connection: Connection, provided: ProvidedConnection, hold: ProcessHold): void {
    const forget = (): void => {
      if (this.#state.name === 'open' && this.#state.provided === provided) {
        this.#state = { name: 'none' };
        this.#dispose(provided, hold);
      }
    };
    connection.on('error', forget);
    connection.on('end', forget);
  }

  #dispose(provided: ProvidedConnection, hold: ProcessHold): void {
    this.#driver.destroy(provided.connection);
    hold.letGo();
    provided.dispose?.();
  }
}
