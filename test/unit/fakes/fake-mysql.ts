/**
 * A scripted stand-in for a MySQL server and the mysql2 connections to it, at the level the pool
 * uses them (src/pool/connection-driver.ts): commands answered one at a time, after a delay on
 * the (fake) clock, with the status flags mysql2 would read from each OK packet; a statement
 * that hangs until KILL QUERY; the server ending a connection or failing it fatally; and a record
 * of every command each connection received.
 *
 * Commands are recorded as the statement text, or `COM_PING`, `COM_RESET_CONNECTION`,
 * `COM_QUIT` for the protocol commands; rules match on the same labels.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { ConnectionDriver } from '../../../src/pool/connection-driver.js';
import type { CommandKind, Connection, ConnectionObserver, PromiseConnection } from '../../../src/driver/mysql2.js';

export const SERVER_STATUS_IN_TRANS = 0x0001;
export const SERVER_STATUS_AUTOCOMMIT = 0x0002;
export const SERVER_SESSION_STATE_CHANGED = 0x4000;

export const PING = 'COM_PING';
export const RESET = 'COM_RESET_CONNECTION';
export const QUIT = 'COM_QUIT';

/** What the server does with one command. */
export type Reply =
  /** Answers OK (with `rows`), after `delayMs` on the clock; `changesState` sets SESSION_STATE_CHANGED. */
  | { readonly kind: 'ok'; readonly rows?: unknown; readonly delayMs?: number; readonly changesState?: boolean }
  /** Answers with a (non-fatal) SQL error. */
  | { readonly kind: 'error'; readonly code: string; readonly message?: string; readonly delayMs?: number }
  /** Runs until KILL QUERY (then ER_QUERY_INTERRUPTED), or forever when `killable` is false. */
  | { readonly kind: 'hang'; readonly killable?: boolean }
  /** The server ends the connection instead of answering: only 'end' (a half-closed channel). */
  | { readonly kind: 'end' }
  /** mysql2 fails the command with a fatal error and the connection is unusable. */
  | { readonly kind: 'fatal'; readonly code?: string };

type Matcher = RegExp | string | ((label: string, conn: FakeConnection) => boolean);

interface Rule {
  readonly match: Matcher;
  readonly reply: Reply | ((label: string, conn: FakeConnection) => Reply);
  /** How many more commands it answers; unlimited when undefined. */
  remaining: number | undefined;
}

/** The command the server is working on: `running` while a statement executes (KILL QUERY stops it). */
interface Running {
  readonly command: Command;
  timer: NodeJS.Timeout | undefined;
  readonly killable: boolean;
  readonly running: boolean;
}

type Callback = (err: unknown, rows?: unknown, fields?: unknown) => void;

interface Command {
  readonly label: string;
  readonly kind: CommandKind;
  readonly callback: Callback;
}

/** An error as mysql2 shapes the server's. */
export function sqlError(code: string, message = code, fatal = false): Error & { code: string; fatal?: boolean } {
  const err = new Error(message) as Error & { code: string; fatal?: boolean; sqlMessage: string };
  err.code = code;
  err.sqlMessage = message;
  if (fatal) err.fatal = true;
  return err;
}

/** One MySQL server: its threads, its scripted behaviour, and the built-in answers the pool relies on. */
export class FakeServer {
  /** What `SELECT @@SESSION.wait_timeout` answers, in seconds. */
  waitTimeoutSeconds = 28_800;
  /** False: `SET SESSION session_track_state_change = 1` fails as on a server without the tracker. */
  tracksState = true;
  /** How long COM_QUIT takes to be answered. */
  quitDelayMs = 0;
  /** Every connection ever accepted, in order. */
  readonly accepted: FakeConnection[] = [];
  /** The most connections open at once, the control connection included. */
  peakOpen = 0;
  /**
   * What happened, in order: `open #N` and `closed #N` for each thread, and whatever the test
   * adds (the fake provider adds `provider closed`).
   */
  readonly timeline: string[] = [];
  readonly #threads = new Map<number, FakeConnection>();
  readonly #rules: Rule[] = [];
  #nextThreadId = 1;

  /** Opens a new session on the server (what a provider's connect() ends with). */
  accept(): FakeConnection {
    const conn = new FakeConnection(this, this.#nextThreadId++);
    this.#threads.set(conn.threadId, conn);
    this.accepted.push(conn);
    this.timeline.push(`open #${conn.threadId}`);
    this.peakOpen = Math.max(this.peakOpen, this.#threads.size);
    return conn;
  }

  /** Connections the server still holds. */
  get open(): FakeConnection[] {
    return [...this.#threads.values()];
  }

  thread(threadId: number): FakeConnection | undefined {
    return this.#threads.get(threadId);
  }

  /** Scripts the answer to every command matching `match`, on every connection (after per-connection rules). */
  when(match: Matcher, reply: Rule['reply'], times?: number): void {
    this.#rules.push({ match, reply, remaining: times });
  }

  /** @internal The server let go of a thread. */
  forget(conn: FakeConnection): void {
    if (this.#threads.get(conn.threadId) !== conn) return;
    this.#threads.delete(conn.threadId);
    this.timeline.push(`closed #${conn.threadId}`);
  }

  /** @internal The first matching rule's reply, counting it down. */
  scripted(label: string, conn: FakeConnection): Reply | undefined {
    return pick(this.#rules, label, conn);
  }

  /** @internal `KILL QUERY id`: stops what that thread runs. */
  killQuery(threadId: number): Reply {
    const target = this.#threads.get(threadId);
    if (target === undefined) return { kind: 'error', code: 'ER_NO_SUCH_THREAD', message: `Unknown thread id: ${threadId}` };
    target.interrupt();
    return { kind: 'ok' };
  }
}

function pick(rules: Rule[], label: string, conn: FakeConnection): Reply | undefined {
  for (const rule of rules) {
    if (rule.remaining === 0) continue;
    const { match } = rule;
    const hit = typeof match === 'string' ? label === match : match instanceof RegExp ? match.test(label) : match(label, conn);
    if (!hit) continue;
    if (rule.remaining !== undefined) rule.remaining--;
    return typeof rule.reply === 'function' ? rule.reply(label, conn) : rule.reply;
  }
  return undefined;
}

/** The socket under a fake connection: counts ref/unref, and closes when destroyed. */
export class FakeStream extends EventEmitter {
  refs = 0;
  unrefs = 0;
  /** Whether it would keep the process alive (the last call was ref, or none yet). */
  referenced = true;
  destroyed = false;

  ref(): this {
    this.refs++;
    this.referenced = true;
    return this;
  }

  unref(): this {
    this.unrefs++;
    this.referenced = false;
    return this;
  }

  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    // As a socket does: 'close' after the current tick.
    queueMicrotask(() => this.emit('close'));
    return this;
  }
}

/**
 * A mysql2 connection (callback API) to a {@link FakeServer}: commands queue and run one at a
 * time; the observer the driver installed sees each command as it is queued and the status
 * flags of each OK answer, as src/driver/mysql2.ts reports them for a real connection.
 */
export class FakeConnection extends EventEmitter {
  readonly threadId: number;
  readonly stream = new FakeStream();
  /** Every command received, in order (statement text, or COM_PING / COM_RESET_CONNECTION / COM_QUIT). */
  readonly received: string[] = [];
  /** Set by the fake driver's observe(). */
  observer: ConnectionObserver | undefined;
  /** The connection's own session as the server keeps it. */
  readonly session = { inTransaction: false, autocommit: true, tracking: false, schema: undefined as string | undefined };
  readonly #server: FakeServer;
  readonly #rules: Rule[] = [];
  readonly #queue: Command[] = [];
  #current: Running | undefined;
  /** Set once mysql2 would refuse commands: after a fatal error, or after end(). */
  #closedState = false;
  #fatal = false;
  #quitting = false;

  constructor(server: FakeServer, threadId: number) {
    super();
    this.#server = server;
    this.threadId = threadId;
    this.stream.on('close', () => {
      this.#server.forget(this);
      // mysql2: a close it did not ask for (COM_QUIT) fails what is queued, fatally.
      if (!this.#quitting) this.#notifyError(sqlError('PROTOCOL_CONNECTION_LOST', 'Connection lost: The server closed the connection.', true));
    });
  }

  /** Whether the server still holds this session. */
  get open(): boolean {
    return this.#server.thread(this.threadId) === this;
  }

  /** Whether mysql2 would refuse a new command: after end(), destroy() or a fatal error. */
  get refusesCommands(): boolean {
    return this.#closedState;
  }

  /** Whether a command is running or queued (mysql2's `_command`). */
  get busy(): boolean {
    return this.#current !== undefined || this.#queue.length > 0;
  }

  /** Statements received since the given count (what the test did after a point). */
  since(count: number): string[] {
    return this.received.slice(count);
  }

  /** Scripts this connection only (checked before the server's rules). */
  when(match: Matcher, reply: Rule['reply'], times?: number): void {
    this.#rules.push({ match, reply, remaining: times });
  }

  // --- the mysql2 Connection API the pool uses ---------------------------------------------

  query(sql: unknown, valuesOrCallback?: unknown, maybeCallback?: Callback): void {
    const callback = (typeof valuesOrCallback === 'function' ? valuesOrCallback : maybeCallback) as Callback | undefined;
    const text = typeof sql === 'string' ? sql : String((sql as { sql?: unknown }).sql);
    this.#add({ label: text, kind: 'statement', callback: callback ?? noop });
  }

  execute(sql: unknown, valuesOrCallback?: unknown, maybeCallback?: Callback): void {
    this.query(sql, valuesOrCallback, maybeCallback);
  }

  ping(callback?: Callback): void {
    this.#add({ label: PING, kind: 'ping', callback: callback ?? noop });
  }

  reset(callback?: Callback): void {
    this.#add({ label: RESET, kind: 'reset', callback: callback ?? noop });
  }

  end(callback?: Callback): void {
    this.#add({ label: QUIT, kind: 'quit', callback: callback ?? noop });
    this.#closedState = true;
  }

  /** mysql2's destroy(): ends its side of the socket. */
  destroy(): void {
    this.#quitting = true;
    this.#closedState = true;
    this.stream.destroy();
  }

  escapeId(name: string): string {
    return `\`${name.replace(/`/g, '``')}\``;
  }

  promise(): PromiseConnection {
    return new FakePromiseConnection(this) as unknown as PromiseConnection;
  }

  // --- what the server does -----------------------------------------------------------------

  /** The server (or the bastion) ends the connection: 'end' only, as a half-closed SSH channel does. */
  serverEnd(): void {
    this.#server.forget(this);
    this.emit('end');
  }

  /** The server's side of the socket closes outright (restart, KILL CONNECTION over TCP). */
  serverClose(): void {
    this.serverEnd();
    this.stream.destroy();
  }

  /** @internal KILL QUERY for this thread: the statement running stops with ER_QUERY_INTERRUPTED. */
  interrupt(): void {
    const current = this.#current;
    if (current?.running !== true || !current.killable) return;
    clearTimeout(current.timer);
    this.#finish(current.command, { kind: 'error', code: 'ER_QUERY_INTERRUPTED', message: 'Query execution was interrupted' });
  }

  #add(command: Command): void {
    if (this.#closedState) {
      // mysql2's _addCommandClosedState: refused at once, and not seen by the observer.
      command.callback(sqlError('PROTOCOL_ENQUEUE_AFTER_QUIT', "Can't add new command when connection is in closed state", true));
      return;
    }
    this.received.push(command.label);
    this.observer?.command(command.kind, command.kind === 'statement' ? command.label : undefined);
    this.#queue.push(command);
    if (this.#current === undefined) this.#startNext();
  }

  #startNext(): void {
    const command = this.#queue.shift();
    if (command === undefined) return;
    const reply = pick(this.#rules, command.label, this) ?? this.#server.scripted(command.label, this) ?? this.#builtIn(command);
    switch (reply.kind) {
      case 'hang':
        this.#current = { command, timer: undefined, killable: reply.killable !== false, running: true };
        return;
      case 'end':
        this.#current = { command, timer: undefined, killable: false, running: false };
        this.serverEnd();
        return;
      case 'fatal':
        this.#current = { command, timer: undefined, killable: false, running: false };
        queueMicrotask(() => {
          this.#fail(sqlError(reply.code ?? 'ECONNRESET', 'read ECONNRESET', true));
        });
        return;
      case 'ok':
      case 'error': {
        const delayMs = reply.delayMs ?? 0;
        const current: Running = { command, timer: undefined, killable: command.kind === 'statement', running: true };
        this.#current = current;
        const answer = (): void => {
          if (this.#current === current) this.#finish(command, reply);
        };
        if (delayMs > 0) current.timer = setTimeout(answer, delayMs);
        else queueMicrotask(answer);
        return;
      }
    }
  }

  #finish(command: Command, reply: Extract<Reply, { kind: 'ok' | 'error' }>): void {
    this.#current = undefined;
    if (reply.kind === 'error') {
      command.callback(sqlError(reply.code, reply.message));
    } else {
      const changed = this.#apply(command, reply);
      const session = this.session;
      const flags =
        (session.inTransaction ? SERVER_STATUS_IN_TRANS : 0) |
        (session.autocommit ? SERVER_STATUS_AUTOCOMMIT : 0) |
        (changed && session.tracking ? SERVER_SESSION_STATE_CHANGED : 0);
      if (command.kind !== 'quit') this.observer?.status(flags);
      command.callback(null, reply.rows ?? (command.kind === 'statement' ? [] : undefined), []);
      if (command.kind === 'quit') {
        this.#quitting = true;
        this.#server.forget(this);
        this.stream.destroy();
        return;
      }
    }
    if (!this.#fatal) this.#startNext();
  }

  /** The session effects of a command that succeeded; true when the server would flag a state change. */
  #apply(command: Command, reply: Extract<Reply, { kind: 'ok' }>): boolean {
    const session = this.session;
    if (command.kind === 'reset') {
      // COM_RESET_CONNECTION: transaction and variables gone, tracking off again; the schema stays.
      session.inTransaction = false;
      session.autocommit = true;
      session.tracking = false;
      return false;
    }
    if (command.kind !== 'statement') return false;
    const sql = command.label.trim();
    if (/^(START\s+TRANSACTION|BEGIN)\b/i.test(sql)) session.inTransaction = true;
    else if (/^(COMMIT|ROLLBACK)\s*$/i.test(sql)) session.inTransaction = false;
    if (/^SET\s+SESSION\s+session_track_state_change\s*=\s*1$/i.test(sql)) session.tracking = true;
    const autocommit = /^SET\s+(?:SESSION\s+)?autocommit\s*=\s*(\d)/i.exec(sql);
    if (autocommit !== null) session.autocommit = autocommit[1] === '1';
    const use = /^USE\s+`?([^`\s]+)`?/i.exec(sql);
    if (use !== null) session.schema = use[1];
    return reply.changesState ?? (/^SET\s+(?!TRANSACTION\b)/i.test(sql) || use !== null || /^CREATE\s+TEMPORARY\b/i.test(sql));
  }

  #builtIn(command: Command): Reply {
    if (command.kind === 'quit') return { kind: 'ok', delayMs: this.#server.quitDelayMs };
    if (command.kind !== 'statement') return { kind: 'ok' };
    const sql = command.label;
    if (/^SET SESSION session_track_state_change = 1$/.test(sql) && !this.#server.tracksState) {
      return { kind: 'error', code: 'ER_UNKNOWN_SYSTEM_VARIABLE', message: "Unknown system variable 'session_track_state_change'" };
    }
    if (/^SELECT @@SESSION\.wait_timeout AS waitTimeout$/.test(sql)) return { kind: 'ok', rows: [{ waitTimeout: this.#server.waitTimeoutSeconds }] };
    const kill = /^KILL QUERY (\d+)$/.exec(sql);
    if (kill !== null) return this.#server.killQuery(Number(kill[1]));
    return { kind: 'ok' };
  }

  /** A fatal error (mysql2's _handleFatalError): fails everything, then the connection closes. */
  #fail(err: Error): void {
    this.#notifyError(err);
    this.#closedState = true;
    this.#quitting = true;
    this.#server.forget(this);
    this.stream.destroy();
  }

  /** mysql2's _notifyError: commands with callbacks get the error; with none running, the connection emits it. */
  #notifyError(err: unknown): void {
    if (this.#fatal) return;
    this.#fatal = true;
    this.#closedState = true;
    const current = this.#current;
    this.#current = undefined;
    if (current !== undefined) clearTimeout(current.timer);
    const queued = this.#queue.splice(0);
    if (current !== undefined) current.command.callback(err);
    for (const command of queued) command.callback(err);
    if (current === undefined) this.emit('error', err);
  }
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(JSON.stringify(err));
}

function noop(): void {
  // A command sent without a callback.
}

/** mysql2's promise wrapper, as far as a session's raw connection uses it. */
export class FakePromiseConnection {
  readonly connection: FakeConnection;

  constructor(connection: FakeConnection) {
    this.connection = connection;
  }

  get threadId(): number {
    return this.connection.threadId;
  }

  query(sql: unknown, values?: unknown): Promise<[unknown, unknown]> {
    return new Promise((resolve, reject) => {
      this.connection.query(sql, values, (err, rows, fields) => {
        if (err != null) reject(toError(err));
        else resolve([rows, fields]);
      });
    });
  }

  execute(sql: unknown, values?: unknown): Promise<[unknown, unknown]> {
    return this.query(sql, values);
  }

  ping(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.connection.ping((err) => {
        if (err != null) reject(toError(err));
        else resolve();
      });
    });
  }
}

/** The fake as the mysql2 type the pool's interfaces name. */
export function asConnection(conn: FakeConnection): Connection {
  return conn as unknown as Connection;
}

/** Back from the mysql2 type; every connection the fake driver sees is a fake. */
export function fake(connection: Connection): FakeConnection {
  const value: unknown = connection;
  if (!(value instanceof FakeConnection)) throw new TypeError('the fake driver was handed a connection that is not a FakeConnection');
  return value;
}

/** ConnectionDriver over {@link FakeConnection}, doing what src/driver/mysql2.ts does to a real one. */
export class FakeDriver implements ConnectionDriver {
  /** Connections destroyed through the driver, in order. */
  readonly destroyed: FakeConnection[] = [];

  observe(connection: Connection, observer: ConnectionObserver): void {
    fake(connection).observer = observer;
  }

  run(connection: Connection, method: 'query' | 'execute', sql: unknown, values: unknown, callback: (err: unknown, rows: unknown, fields: unknown) => void): void {
    fake(connection)[method](sql, values, callback);
  }

  busy(connection: Connection): boolean {
    return fake(connection).busy;
  }

  refusesCommands(connection: Connection): boolean {
    return fake(connection).refusesCommands;
  }

  destroy(connection: Connection): void {
    const conn = fake(connection);
    this.destroyed.push(conn);
    // As destroyConnection: the 'connection lost' this causes is expected.
    conn.once('error', noop);
    if (!conn.stream.destroyed) conn.stream.destroy();
    else conn.destroy();
  }

  stream(connection: Connection): Duplex | undefined {
    return fake(connection).stream as unknown as Duplex;
  }
}
