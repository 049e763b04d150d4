/**
 * One session waiting for a connection: settled once, by a connection, an error, or its deadline.
 * The deadline bounds the whole wait, the time to open a new connection included.
 */
export class PendingAcquire<C> {
  readonly promise: Promise<C>;
  #resolve!: (conn: C) => void;
  #reject!: (err: unknown) => void;
  #settled = false;
  readonly #timer: NodeJS.Timeout;

  /** `onDeadline` is called once after `timeoutMs` unless settled first; it should reject. */
  constructor(timeoutMs: number, onDeadline: (pending: PendingAcquire<C>) => void) {
    this.promise = new Promise<C>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Ref'd: a script waiting for a connection must not exit under itself.
    this.#timer = setTimeout(() => {
      onDeadline(this);
    }, timeoutMs);
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** Hands over a connection; false when it was settled already (the caller keeps the connection). */
  resolve(conn: C): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    clearTimeout(this.#timer);
    this.#resolve(conn);
    return true;
  }

  reject(err: unknown): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    clearTimeout(this.#timer);
    this.#reject(err);
    return true;
  }
}
