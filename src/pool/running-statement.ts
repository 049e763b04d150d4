import type { FieldPacket } from '../driver/mysql2.js';
import { DbSwitchError } from '../errors.js';
import type { GiveUpReason, StatementRequest } from '../db-session.js';

export type StatementResult = [unknown, FieldPacket[]];

/**
 * Where a statement is: waiting its turn on the connection, sent to the server, or settled. A
 * statement given up on while sent stays `abandoned` until the server answers (or the connection
 * is closed), so the connection is never reused under a command still running.
 */
export type StatementPhase = 'queued' | 'sent' | 'abandoned' | 'settled';

/**
 * One statement on one connection. It settles exactly once, whichever comes first: the server's
 * answer, its timeout, its AbortSignal, the session's release, the Db's close, or the loss of the
 * connection. Whatever happens underneath, the caller gets an answer.
 */
export class RunningStatement {
  readonly request: StatementRequest;
  readonly promise: Promise<StatementResult>;
  #phase: StatementPhase = 'queued';
  #resolve!: (result: StatementResult) => void;
  #reject!: (err: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  #onAbort: (() => void) | undefined;
  /** Resolves when the server has answered a sent statement (whether or not the caller still waits). */
  #answered: (() => void) | undefined;
  readonly answered: Promise<void>;

  /** `giveUp` is called (once) when the timeout or the signal fires. */
  constructor(request: StatementRequest, giveUp: (statement: RunningStatement, reason: GiveUpReason) => void) {
    this.request = request;
    this.promise = new Promise<StatementResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.answered = new Promise<void>((resolve) => {
      this.#answered = resolve;
    });
    if (request.timeoutMs > 0) {
      this.#timer = setTimeout(() => {
        giveUp(this, { kind: 'timeout', timeoutMs: request.timeoutMs });
      }, request.timeoutMs);
    }
    const signal = request.signal;
    if (signal !== undefined) {
      const onAbort = (): void => {
        giveUp(this, { kind: 'aborted', reason: signal.reason });
      };
      this.#onAbort = onAbort;
      signal.addEventListener('abort', onAbort, { once: true });
    }
  }

  get phase(): StatementPhase {
    return this.#phase;
  }

  /** The connection sent it to the server. */
  markSent(): void {
    if (this.#phase === 'queued') this.#phase = 'sent';
  }

  /** The server answered (mysql2's callback). Settles the caller unless it gave up already. */
  answer(err: unknown, result: StatementResult | undefined): void {
    const phase = this.#phase;
    this.#answered?.();
    this.#answered = undefined;
    if (phase === 'settled') return;
    this.#phase = 'settled';
    this.#stopWatching();
    if (phase === 'abandoned') return;
    if (err !== null && err !== undefined) this.#reject(err);
    else if (result !== undefined) this.#resolve(result);
    else this.#reject(new DbSwitchError('ECONNECTION_LOST', 'mysql2 answered a statement with neither a result nor an error'));
  }

  /**
   * The caller stops waiting: rejects now with `err`. A statement already sent becomes
   * `abandoned` until the server answers; returns whether it had been sent.
   */
  giveUp(err: unknown): boolean {
    const phase = this.#phase;
    if (phase === 'settled' || phase === 'abandoned') return false;
    this.#stopWatching();
    this.#reject(err);
    if (phase === 'sent') {
      this.#phase = 'abandoned';
      return true;
    }
    this.#phase = 'settled';
    this.#answered?.();
    this.#answered = undefined;
    return false;
  }

  /** The connection is gone: no answer will come. */
  lose(err: unknown): void {
    if (this.#phase !== 'abandoned') this.giveUp(err);
    this.#phase = 'settled';
    this.#answered?.();
    this.#answered = undefined;
  }

  #stopWatching(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#onAbort !== undefined) this.request.signal?.removeEventListener('abort', this.#onAbort);
    this.#onAbort = undefined;
  }
}

