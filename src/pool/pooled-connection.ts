import { destroyConnection, type Connection, type PromiseConnection } from '../driver/mysql2.js';
import type { DbSwitchError } from '../errors.js';

/**
 * One physical connection as a provider opened it: the mysql2 connection, and the means to let
 * the process exit while it sits idle (the socket or tunnel that holds the event loop).
 */
export interface OpenedConnection {
  readonly connection: Connection;
  /** Keep the process alive for this connection (it is in use). */
  ref(): void;
  /** Let the process exit even though this connection is open (it is idle). */
  unref(): void;
  /** Frees whatever the provider opened beside the mysql2 connection (a tunnel channel). */
  dispose?(): void;
  /** When what carries the connection (a tunnel) is to blame for a failure, the error to report. */
  explainLoss?(err: unknown): DbSwitchError | undefined;
}

/** Bookkeeping the pool keeps for each connection. */
export class PooledConnection {
  readonly connection: Connection;
  /** The mysql2 promise API over the same connection, made once. */
  readonly promise: PromiseConnection;
  /** When the pool must stop reusing it (epoch ms); Infinity when there is no limit. */
  readonly expiresAt: number;
  /** When it was last handed back (epoch ms); drives pre-ping and idle reaping. */
  idleSince: number;
  #alive = true;
  readonly #opened: OpenedConnection;
  readonly #onDeath: (conn: PooledConnection) => void;

  constructor(opened: OpenedConnection, lifetimeMs: number, onDeath: (conn: PooledConnection) => void) {
    this.#opened = opened;
    this.connection = opened.connection;
    this.promise = opened.connection.promise();
    const now = Date.now();
    this.idleSince = now;
    this.expiresAt = lifetimeMs > 0 ? now + lifetimeMs : Number.POSITIVE_INFINITY;
    this.#onDeath = onDeath;
    // The server closing an idle connection (KILL, wait_timeout, restart) arrives as 'end' or
    // 'error' before the next checkout; without an 'error' listener it would crash the process.
    const die = (): void => { this.#markDead(); };
    this.connection.on('end', die);
    this.connection.on('error', die);
  }

  /** False once the server or the network closed it, or it was destroyed. */
  get alive(): boolean {
    return this.#alive;
  }

  /** The provider's account of a failure, when the carrier (a tunnel) is to blame. */
  explainLoss(err: unknown): DbSwitchError | undefined {
    return this.#opened.explainLoss?.(err);
  }

  /** Called by the pool on checkout and return. */
  hold(): void {
    this.#opened.ref();
  }

  letGo(): void {
    this.#opened.unref();
  }

  /** Closes it politely (COM_QUIT), or at once when it is broken or `force` is set. */
  close(force = false): Promise<void> {
    const wasAlive = this.#alive;
    this.#markDead();
    if (!wasAlive || force) {
      this.#opened.unref();
      destroyConnection(this.connection);
      this.#opened.dispose?.();
      return Promise.resolve();
    }
    // Held while closing: someone awaiting close() must not see the process exit under them.
    this.#opened.ref();
    return new Promise<void>((resolve) => {
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        destroyConnection(this.connection);
        this.#opened.unref();
        this.#opened.dispose?.();
        resolve();
      };
      // end() waits for the server; a dead peer must not hold up close(), hence the bound. The
      // timer is ref'd: whoever awaits close() keeps the process alive until it is done.
      const timer = setTimeout(finish, 1000);
      this.connection.end(finish);
    });
  }

  #markDead(): void {
    if (!this.#alive) return;
    this.#alive = false;
    this.#onDeath(this);
  }
}
