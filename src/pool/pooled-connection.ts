import type { ProvidedConnection } from '../db-provider.js';
import type { GiveUpReason, LentConnection, StatementRequest } from '../db-session.js';
import { isFatal, type Connection, type FieldPacket, type PromiseConnection } from '../driver/mysql2.js';
import type { ConnectionDriver } from './connection-driver.js';
import { DbSwitchError } from '../errors.js';
import { processHold, type ProcessHold } from './process-hold.js';
import { giveUpError } from './give-up-error.js';
import { RunningStatement, type StatementResult } from './running-statement.js';
import { SessionState, type StateHints } from './session-state.js';

/** What a pooled connection needs from its pool. */
export interface ConnectionServices {
  readonly driver: ConnectionDriver;
  readonly hints: StateHints;
  /** Asks the server to stop what `conn` runs (KILL QUERY on the control connection); true when it confirmed. */
  cancel(conn: PooledConnection): Promise<boolean>;
  /** The connection died (the server closed it, the network or the tunnel broke). */
  lost(conn: PooledConnection): void;
  /** How long to wait for the server to answer a killed statement before closing the connection. */
  readonly settleTimeoutMs: number;
}

/** Why a connection is no longer usable. */
type Life = { readonly name: 'open' } | { readonly name: 'lost'; readonly error: DbSwitchError } | { readonly name: 'closed' };

/** Errors of statements that provably never reached the server (safe to run elsewhere). */
const unsent = new WeakSet<object>();

/** True when a statement failed without being sent: it may run again on another connection. */
export function wasNotSent(err: unknown): boolean {
  return typeof err === 'object' && err !== null && unsent.has(err);
}

const CLOSE_WAIT_MS = 1000;
/** After a kill, how long before it is sent again while the statement still runs (then doubling). */
const RE_KILL_AFTER_MS = 50;

/**
 * One physical connection of the pool: the mysql2 connection a provider opened, the session
 * state the server reports on it, and the statements a session runs on it, one at a time.
 *
 * A statement given up on (timeout, AbortSignal, release) is killed on the server and the
 * connection waits for the server's answer before running anything else; if the kill fails or
 * the answer does not come, the connection is closed instead. The server closing the connection
 * (KILL, restart, wait_timeout) or the carrier breaking fails every statement at once, also over
 * a half-closed SSH channel, which mysql2 alone would wait on forever.
 */
export class PooledConnection implements LentConnection {
  readonly connection: Connection;
  readonly threadId: number;
  readonly state: SessionState;
  /** When the pool must stop reusing it (epoch ms); Infinity when there is no limit. */
  expiresAt = Number.POSITIVE_INFINITY;
  /** When it last went idle (epoch ms); drives pre-ping and idle reaping. */
  idleSince = Date.now();
  /** Whether the pool has lent it to a session (the pool's bookkeeping, as the two above). */
  lent = false;
  /**
   * Stands for the connection's session state since it was last made clean: replaced by every
   * reset. A mysql2-compatible facade keys its connection objects on it, so an ORM's
   * per-connection setup (Kysely onCreateConnection, Knex afterCreate) runs again after a reset.
   */
  #epoch: object = {};
  readonly #provided: ProvidedConnection;
  readonly #services: ConnectionServices;
  readonly #queue: RunningStatement[] = [];
  readonly #hold: ProcessHold;
  #life: Life = { name: 'open' };
  /** Stopping what runs on the server (KILL QUERY, then waiting for it): resolves true when reusable. */
  #stopping: Promise<boolean> | undefined;
  #closed: Promise<void> | undefined;
  #promise: PromiseConnection | undefined;

  constructor(provided: ProvidedConnection, services: ConnectionServices) {
    this.#provided = provided;
    this.#services = services;
    this.#hold = processHold(provided, services.driver);
    this.connection = provided.connection;
    this.threadId = provided.connection.threadId;
    this.state = new SessionState(services.hints);
    services.driver.observe(this.connection, {
      status: (flags) => {
        this.state.onStatus(flags);
      },
      command: (kind, sql) => {
        this.state.onCommand(kind, sql);
      },
      fatal: (err) => {
        this.#lose(err);
      },
    });
    this.connection.on('error', (err: Error) => {
      this.#lose(err);
    });
    this.connection.on('end', () => {
      // The server (or the bastion) ended its side. A socket closes itself then; an SSH channel
      // stays half-open, and mysql2 waits on it forever, while the bastion keeps a CLOSE-WAIT
      // socket: close our side too.
      services.driver.stream(this.connection)?.destroy();
      this.#lose(new Error('the server closed the connection'));
    });
  }

  get epoch(): object {
    return this.#epoch;
  }

  /** The session state was wiped (COM_RESET_CONNECTION): what was set up on it is gone. */
  renewEpoch(): void {
    this.#epoch = {};
  }

  /** False once the server or the network closed it, or it was closed. */
  get alive(): boolean {
    return this.#life.name === 'open';
  }

  get inTransaction(): boolean {
    return this.state.inTransaction;
  }

  /** The mysql2 promise API over this connection, made once. */
  get promise(): PromiseConnection {
    this.#promise ??= this.connection.promise();
    return this.#promise;
  }

  /** Runs a statement after those already queued on this connection. */
  run(request: StatementRequest): Promise<StatementResult> {
    this.#noticeClosedByApplication();
    if (this.#life.name !== 'open') {
      const error = this.#lossError(undefined);
      unsent.add(error);
      return Promise.reject(error);
    }
    if (request.signal?.aborted === true) {
      return Promise.reject(giveUpError({ kind: 'aborted', reason: request.signal.reason }, false));
    }
    const statement = new RunningStatement(request, (given, reason) => {
      this.#giveUp(given, reason);
    });
    this.#queue.push(statement);
    if (this.#queue.length === 1) this.#sendNext();
    return statement.promise;
  }

  /**
   * Ends the session's use: gives up every statement still queued or running (with the error
   * for `reason`), kills on the server what still runs, and waits for it to stop. Resolves true
   * when the connection is alive and idle, false when it had to be closed.
   */
  async quiesce(reason: GiveUpReason): Promise<boolean> {
    this.#noticeClosedByApplication();
    for (const statement of this.#queue.slice()) {
      if (statement.phase === 'queued') this.#giveUp(statement, reason);
    }
    const head = this.#queue[0];
    if (head?.phase === 'sent') this.#giveUp(head, reason);
    if (!this.alive) return false;
    if (this.#stopping !== undefined) return this.#stopping;
    // Nothing of ours runs; something sent on the raw connection and not awaited may.
    if (this.#queue.length === 0 && !this.#services.driver.busy(this.connection)) return true;
    return this.#stop('a statement sent on the raw connection');
  }

  /** Alive, with nothing of a session's left on it: no statement queued, running or being stopped. */
  get quiet(): boolean {
    this.#noticeClosedByApplication();
    return this.#life.name === 'open' && this.#queue.length === 0 && this.#stopping === undefined && !this.#services.driver.busy(this.connection);
  }

  /** Keep the process alive for this connection (it is in use). */
  hold(): void {
    this.#hold.hold();
  }

  /** Let the process exit even though this connection is open (it is idle). */
  letGo(): void {
    this.#hold.letGo();
  }

  /** Closes at once: what runs fails with ECONNECTION_LOST (or the provider's account). */
  destroy(why: string): void {
    this.#lose(new Error(why));
    void this.close(true);
  }

  /** Closes politely (COM_QUIT), or at once when broken or `force` is set. Idempotent. */
  close(force = false): Promise<void> {
    this.#closed ??= this.#close(force);
    return this.#closed;
  }

  /** The provider's account of a failure, or ECONNECTION_LOST. */
  #lossError(err: unknown): DbSwitchError {
    if (this.#life.name === 'lost') return this.#life.error;
    const explained = this.#provided.explainLoss?.(err);
    if (explained !== undefined) return explained;
    const reason = err instanceof Error ? err.message : 'the connection is closed';
    return new DbSwitchError(
      'ECONNECTION_LOST',
      `the connection to the database broke (${reason}); it has been discarded, and the next statement gets a new one`,
      { cause: err },
    );
  }

  #sendNext(): void {
    const statement = this.#queue[0];
    if (statement === undefined || this.#life.name !== 'open') return;
    statement.markSent();
    const { method, sql, values, internal } = statement.request;
    const send = (): void => {
      this.#services.driver.run(this.connection, method, sql, values, (err, rows, fields) => {
        if (isFatal(err)) {
          // mysql2 closes the connection after a fatal error; every statement fails as lost.
          this.#lose(err);
          return;
        }
        if (this.#queue[0] === statement) this.#queue.shift();
        statement.answer(err, [rows, fields as FieldPacket[]]);
        this.#sendNext();
      });
    };
    if (internal === true) this.state.internal(send);
    else send();
  }

  #giveUp(statement: RunningStatement, reason: GiveUpReason): void {
    const sent = statement.phase === 'sent';
    if (!statement.giveUp(giveUpError(reason, sent))) {
      const index = this.#queue.indexOf(statement);
      if (index > 0) this.#queue.splice(index, 1);
      else if (index === 0 && statement.phase === 'settled') {
        this.#queue.shift();
        this.#sendNext();
      }
      return;
    }
    // Sent: the server runs it still. Kill it; the queue goes on once the server answered.
    void this.#stop('a statement given up on', statement);
  }

  /**
   * Kills what runs on the server and waits for it to stop; closes the connection when either
   * fails. One at a time: a release during a timeout's kill waits for that kill.
   */
  #stop(what: string, statement?: RunningStatement): Promise<boolean> {
    this.#stopping ??= (async (): Promise<boolean> => {
      try {
        if (!(await this.#services.cancel(this))) {
          this.destroy(`${what} could not be killed on the server`);
          return false;
        }
        return await this.#waitForServer(statement);
      } finally {
        this.#stopping = undefined;
      }
    })();
    return this.#stopping;
  }

  /**
   * Waits for the server to finish what runs (a ping queued behind it answers last). A KILL
   * QUERY that reached the server before the statement did is lost (the server clears a pending
   * kill when a command starts), so until the statement answers the kill is sent again, at
   * growing intervals. It stops at the statement's answer, before anything else of the session
   * can be sent; the ping in between starts a command, which clears a kill that arrives late.
   */
  async #waitForServer(statement?: RunningStatement): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    let retry: NodeJS.Timeout | undefined;
    let done = false;
    const stopKilling = (): void => {
      done = true;
      clearTimeout(retry);
    };
    void statement?.answered.then(stopKilling);
    const killAgain = (delayMs: number): void => {
      retry = setTimeout(() => {
        if (done || !this.alive) return;
        void this.#services.cancel(this).then(() => {
          if (!done) killAgain(delayMs * 2);
        });
      }, delayMs);
    };
    killAgain(RE_KILL_AFTER_MS);
    const answered = await Promise.race([
      new Promise<boolean>((resolve) => {
        this.connection.ping((err) => {
          resolve(err == null);
        });
      }),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(resolve, this.#services.settleTimeoutMs, false);
      }),
    ]);
    stopKilling();
    clearTimeout(timer);
    if (!answered && this.alive) this.destroy(`the server did not finish a killed statement within ${this.#services.settleTimeoutMs} ms`);
    return answered && this.alive;
  }

  /**
   * The application closed the raw connection it was lent (`(await s.connect()).destroy()`, an
   * ORM's `connection.destroy()`): mysql2 refuses commands at once, though the socket's close
   * arrives later. Lost now, so it is never pooled, and a statement meant for it goes to a new one.
   */
  #noticeClosedByApplication(): void {
    if (this.#life.name === 'open' && this.#services.driver.refusesCommands(this.connection)) {
      this.#lose(new Error('the connection was closed by the application (end() or destroy())'));
    }
  }

  #lose(err: unknown): void {
    if (this.#life.name !== 'open') return;
    const error = this.#lossError(err);
    this.#life = { name: 'lost', error };
    for (const statement of this.#queue.splice(0)) {
      if (statement.phase === 'queued') {
        const notSent = this.#lossError(err);
        unsent.add(notSent);
        statement.lose(notSent);
      } else {
        statement.lose(error);
      }
    }
    this.#services.lost(this);
  }

  async #close(force: boolean): Promise<void> {
    const wasOpen = this.#life.name === 'open';
    if (wasOpen) this.#life = { name: 'closed' };
    for (const statement of this.#queue.splice(0)) statement.lose(this.#lossError(undefined));
    if (!wasOpen || force) {
      this.#finish();
      return;
    }
    // Held while closing: whoever awaits close() must not see the process exit under them.
    this.hold();
    await new Promise<void>((resolve) => {
      // end() waits for the server; a dead peer must not hold up close(), hence the bound.
      const timer = setTimeout(resolve, CLOSE_WAIT_MS);
      this.connection.end(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.#finish();
  }

  #finish(): void {
    this.#services.driver.destroy(this.connection);
    this.letGo();
    this.#provided.dispose?.();
  }
}
