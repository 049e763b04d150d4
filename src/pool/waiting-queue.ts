import type { BorrowCallback } from '../db-session.js';

/** One session waiting for a connection, with the deadline of its whole wait (epoch ms). */
interface Waiter<C> {
  readonly deadline: number;
  readonly done: BorrowCallback<C>;
}

/**
 * The sessions waiting for a connection, served first come, first served, each until its own
 * deadline. One timer watches the earliest deadline for the whole queue: a pool under load queues
 * nearly every checkout, and a timer armed and cleared per checkout would cost more than the rest
 * of the hand-over. The timer holds the process while someone waits (a script waiting for a
 * connection must not exit under itself) and lets it go when nobody does.
 */
export class WaitingQueue<C> {
  readonly #waiters: Waiter<C>[] = [];
  readonly #expire: () => unknown;
  #timer: NodeJS.Timeout | undefined;
  /** When the timer fires (epoch ms). */
  #timerAt = Number.POSITIVE_INFINITY;

  /**
   * `expire` is called for each waiter whose deadline passed, once it has left the queue, and
   * returns the error that waiter gets.
   */
  constructor(expire: () => unknown) {
    this.#expire = expire;
  }

  get length(): number {
    return this.#waiters.length;
  }

  /** Queues a session until a connection is handed to it, it fails, or `deadline` passes; `done` hears which. */
  wait(deadline: number, done: BorrowCallback<C>): void {
    this.#waiters.push({ deadline, done });
    this.#watch(deadline);
  }

  /** Hands `conn` to the session that waits longest; false when nobody waits. */
  serve(conn: C): boolean {
    const waiter = this.#takeFirst();
    waiter?.done(null, conn);
    return waiter !== undefined;
  }

  /** Fails the session that waits longest; false when nobody waits. */
  failFirst(err: unknown): boolean {
    const waiter = this.#takeFirst();
    waiter?.done(err);
    return waiter !== undefined;
  }

  /** Fails every waiting session (the pool closes); the timer goes too. Returns how many there were. */
  failAll(err: unknown): number {
    const waiters = this.#waiters.splice(0);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    for (const waiter of waiters) waiter.done(err);
    return waiters.length;
  }

  #takeFirst(): Waiter<C> | undefined {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) this.#settled();
    return waiter;
  }

  /** A waiter joined: the timer holds the process again, and fires by its deadline. */
  #watch(deadline: number): void {
    if (this.#timer !== undefined && deadline >= this.#timerAt) {
      this.#timer.ref();
      return;
    }
    clearTimeout(this.#timer);
    this.#timerAt = deadline;
    this.#timer = setTimeout(() => {
      this.#onTimer();
    }, Math.max(0, deadline - Date.now()));
  }

  /** A waiter left: when it was the last, the timer no longer holds the process (it stays armed, harmless). */
  #settled(): void {
    if (this.#waiters.length === 0) this.#timer?.unref();
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    const expired: Waiter<C>[] = [];
    for (let i = 0; i < this.#waiters.length; ) {
      const waiter = this.#waiters[i] as Waiter<C>;
      if (waiter.deadline <= now) {
        expired.push(waiter);
        this.#waiters.splice(i, 1);
      } else {
        next = Math.min(next, waiter.deadline);
        i++;
      }
    }
    if (Number.isFinite(next)) this.#watch(next);
    for (const waiter of expired) waiter.done(this.#expire());
  }
}
