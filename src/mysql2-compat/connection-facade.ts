import { Readable } from 'node:stream';
import type { Connection, PoolConnection } from 'mysql2';
import { isFatal, promisePoolConnection } from '../driver/mysql2.js';
import { DbSwitchError } from '../errors.js';

/** A physical connection as the pool lends it: what a facade needs of it. */
export interface LendableConnection {
  readonly connection: Connection;
  /** Replaced by every reset of the connection's session state. */
  readonly epoch: object;
  readonly alive: boolean;
  destroy(why: string): void;
}

/** What the facade does when its user calls release() or destroy() during a lease. */
export interface LeaseEnd {
  release(): void;
  destroy(): void;
  /** A statement of the ORM's failed with a fatal error: the connection is dead. */
  lost(): void;
}

/** mysql2 options that concern how results are read: a query on the facade carries them. */
export type QueryDefaults = Readonly<Record<string, unknown>>;

const SECRET_CONFIG = new Set(['password', 'password1', 'password2', 'password3', 'passwordSha1', 'authPlugins', 'stream', 'ssl']);

/**
 * One physical connection as an ORM sees it: the real mysql2 connection (so `query(...)`,
 * `query(...).stream()`, `execute`, `threadId` and events behave as mysql2's own), plus the pool
 * connection's `release()`, `destroy()` and `promise()`, with `config` holding no password. It
 * only works while lent: afterwards every call fails with ESESSION_RELEASED, as the connection
 * serves someone else.
 */
export class ConnectionFacade {
  /** What the ORM holds: a Proxy over the real connection, shaped as mysql2's pool connection. */
  readonly object: PoolConnection;
  readonly #real: Connection;
  readonly #leaseEnd: LeaseEnd;
  readonly #defaults: QueryDefaults | undefined;
  /** Commands without a callback sent during this lease and not ended yet, with the streams made of them. */
  readonly #unfinished = new Set<{ readonly command: CommandEvents; readonly streams: Set<Readable> }>();
  /** The wrappers the Proxy hands out for the real connection's other methods, by property. */
  readonly #methods = new Map<PropertyKey, MethodSlot>();
  /** query() and execute(): read on every statement, so held in fields rather than looked up in #methods. */
  readonly #query = new MethodSlot((method) => this.#statement('query', method));
  readonly #execute = new MethodSlot((method) => this.#statement('execute', method));
  /** The pool connection's own methods, which the real connection lacks or must not run. */
  readonly #release = (): void => {
    if (this.#end()) this.#leaseEnd.release();
  };
  readonly #destroy = (): void => {
    if (this.#end()) this.#leaseEnd.destroy();
  };
  /**
   * As mysql2's pool connection does (without gracefulEnd): end() gives it back, never closes
   * it. Drizzle's iterator ends its pooled connection so.
   */
  readonly #endLease = (callback?: unknown): void => {
    if (this.#end()) this.#leaseEnd.release();
    if (typeof callback === 'function') (callback as () => void)();
  };
  readonly #promise = (): unknown => promisePoolConnection(this.object);
  #lent = false;
  #config: Record<string, unknown> | undefined;

  /**
   * `leaseEnd` says what release() and destroy() do, and what happens when a statement of the
   * ORM's failed with a fatal error: mysql2 tells only that statement's callback (no 'error' or
   * 'end' on the connection when the callback took it, or over TLS), so without it the pool would
   * lend the dead connection again.
   */
  constructor(real: Connection, defaults: QueryDefaults | undefined, leaseEnd: LeaseEnd) {
    this.#real = real;
    this.#defaults = defaults;
    this.#leaseEnd = leaseEnd;
    // The real connection stands in for a pool connection: the trap below adds what it lacks.
    // Every read of the ORM's goes through it, so the names read on every statement come first,
    // each as a plain property read (a computed one, target[property], is V8's megamorphic path).
    const connection: object = real;
    this.object = new Proxy(connection as PoolConnection, {
      get: (target, property) => {
        switch (property) {
          case 'then':
            // Not a thenable: every promise resolved with the connection asks (Kysely: twice per checkout).
            return undefined;
          case 'query':
            return this.#query.for((target as unknown as StatementMethods).query);
          case 'execute':
            return this.#execute.for((target as unknown as StatementMethods).execute);
          case 'release':
          case Symbol.dispose:
            return this.#release;
          case 'destroy':
            return this.#destroy;
          case 'end':
            return this.#endLease;
          case 'promise':
            return this.#promise;
          case 'config':
            this.#config ??= sanitized(target.config as unknown as Record<string, unknown>);
            return this.#config;
          default:
            break;
        }
        // A plain read: Reflect.get with a receiver takes V8's slow generic path.
        const value: unknown = (target as unknown as Record<PropertyKey, unknown>)[property];
        if (typeof value !== 'function') return value;
        let slot = this.#methods.get(property);
        if (slot === undefined) {
          slot = new MethodSlot((method) => this.#method(property, method));
          this.#methods.set(property, slot);
        }
        return slot.for(value);
      },
    });
  }

  /** What the Proxy returns for another method of the real connection. */
  #method(property: PropertyKey, method: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
    const real = this.#real;
    if (property === 'on' || property === 'once' || property === 'off' || property === 'removeListener' || property === 'addListener') {
      return (...args: unknown[]) => method.apply(real, args);
    }
    return (...args: unknown[]): unknown => {
      if (!this.#lent) throw released(String(property));
      return method.apply(real, args);
    };
  }

  /** query() or execute() on the real connection, with the facade's defaults and watch. */
  #statement(name: 'query' | 'execute', method: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
    const real = this.#real;
    return (...args: unknown[]): unknown => {
      if (!this.#lent) throw released(name);
      if (args.length > 0) {
        args[0] = queryWithDefaults(args[0], this.#defaults);
        const last = args.length - 1;
        const callback = args[last];
        if (typeof callback === 'function') args[last] = this.#watchingFatal(callback as StatementCallback);
        else if (!madeWithCallback(args[0])) return this.#watchedWithoutCallback(() => method.apply(real, args));
      }
      return method.apply(real, args);
    };
  }

  /** The connection is lent to the ORM now, until its release() or destroy(). */
  lend(): void {
    this.#lent = true;
  }

  get lent(): boolean {
    return this.#lent;
  }

  /** Ends the lease (once): later calls on the connection fail. True when it was lent. */
  #end(): boolean {
    if (!this.#lent) return false;
    this.#lent = false;
    if (this.#unfinished.size > 0) this.#abandonUnfinished();
    return true;
  }

  /**
   * The ORM gave the connection back with a command still running (it left a stream early):
   * nobody reads the rest any more. Its streams are destroyed, so mysql2 reads on (a stream left
   * paused would hold the connection until the pool gives up on it), and the error of the KILL
   * that the pool sends is the pool's, not an unhandled 'error' event.
   */
  #abandonUnfinished(): void {
    for (const { command, streams } of this.#unfinished) {
      command.on('error', () => undefined);
      for (const stream of streams) stream.destroy();
    }
    this.#unfinished.clear();
  }

  /** The ORM's callback, and then, when the error was fatal, the connection reported lost. */
  #watchingFatal(callback: StatementCallback): StatementCallback {
    // mysql2 calls back with at most (err, rows, fields).
    return (err, rows, fields) => {
      try {
        callback(err, rows, fields);
      } finally {
        if (isFatal(err)) this.#leaseEnd.lost();
      }
    };
  }

  /**
   * Runs `send`, which queues a command without a callback (`query(sql).stream()`, or events).
   * When the connection is lost, mysql2 tells such a command nothing (only the connection emits
   * 'error'), and a stream on it would wait forever: the command gets that error and ends, as
   * after an error from the server. Until it ends, the command and its streams are kept for
   * #abandonUnfinished.
   */
  #watchedWithoutCallback(send: () => unknown): unknown {
    const real = this.#real;
    const watch: { command?: CommandEvents; lost?: { readonly error: unknown }; settled: boolean } = { settled: false };
    const fail = (): void => {
      const { command, lost } = watch;
      if (watch.settled || command === undefined || lost === undefined) return;
      watch.settled = true;
      real.removeListener('error', onLost);
      if (command.listenerCount('error') > 0) command.emit('error', lost.error);
      command.emit('end');
    };
    const onLost = (err: unknown): void => {
      watch.lost ??= { error: err };
      fail();
    };
    // Before sending: a connection already closed fails the command as it is queued.
    real.on('error', onLost);
    let sent: unknown;
    try {
      sent = send();
    } catch (err) {
      real.removeListener('error', onLost);
      throw err;
    }
    if (!isCommand(sent)) {
      real.removeListener('error', onLost);
      return sent;
    }
    const unfinished = { command: sent, streams: new Set<Readable>() };
    this.#unfinished.add(unfinished);
    sent.once('end', () => {
      watch.settled = true;
      real.removeListener('error', onLost);
      this.#unfinished.delete(unfinished);
    });
    const { stream } = sent;
    if (typeof stream === 'function') {
      sent.stream = (...args: unknown[]): unknown => {
        const made = stream.apply(sent, args);
        if (made instanceof Readable) {
          unfinished.streams.add(made);
          made.once('close', () => unfinished.streams.delete(made));
        }
        return made;
      };
    }
    watch.command = sent;
    // Told once the caller has attached its stream or listeners.
    if (watch.lost !== undefined) process.nextTick(fail);
    return sent;
  }

  /** The real connection, for the pool's own query and execute. */
  get real(): Connection {
    return this.#real;
  }
}

/**
 * The query with the facade's defaults under it: SQL text or a plain options object get them; a
 * query command mysql2 made already (the pool's own query) is left as it is.
 */
export function queryWithDefaults(options: unknown, defaults: QueryDefaults | undefined): unknown {
  if (defaults === undefined) return options;
  if (typeof options === 'string') return { ...defaults, sql: options };
  if (typeof options === 'object' && options !== null && Object.getPrototypeOf(options) === Object.prototype) return { ...defaults, ...options };
  return options;
}

/**
 * The wrapper the Proxy hands out for one method of the real connection: made once, and again
 * only when mysql2 replaced the real method on the instance (addCommand once closed).
 */
class MethodSlot {
  readonly #make: (method: (...args: unknown[]) => unknown) => (...args: unknown[]) => unknown;
  #source: unknown;
  #method: ((...args: unknown[]) => unknown) | undefined;

  constructor(make: (method: (...args: unknown[]) => unknown) => (...args: unknown[]) => unknown) {
    this.#make = make;
  }

  for(real: unknown): (...args: unknown[]) => unknown {
    if (this.#method === undefined || this.#source !== real) {
      this.#source = real;
      this.#method = this.#make(real as (...args: unknown[]) => unknown);
    }
    return this.#method;
  }
}

/** A mysql2 command as an emitter: what #watchedWithoutCallback tells of a lost connection. */
interface CommandEvents {
  emit(event: 'error', err: unknown): boolean;
  emit(event: 'end'): boolean;
  on(event: 'error', listener: (err: unknown) => void): unknown;
  once(event: 'end', listener: () => void): unknown;
  listenerCount(event: 'error'): number;
  /** A query's `stream(options)`. */
  stream?: (...args: unknown[]) => unknown;
}

function isCommand(value: unknown): value is CommandEvents {
  return typeof value === 'object' && value !== null && typeof (value as { once?: unknown }).once === 'function';
}

type StatementCallback = (err: unknown, ...results: unknown[]) => void;

/** The real connection's statement methods, as values (the trap hands out wrappers). */
type StatementMethods = Readonly<Record<'query' | 'execute', unknown>>;

/** A query command made with a callback (the pool's own query, which watches it itself). */
function madeWithCallback(first: unknown): boolean {
  return typeof first === 'object' && first !== null && typeof (first as { onResult?: unknown }).onResult === 'function';
}

function sanitized(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).filter(([key]) => !SECRET_CONFIG.has(key)));
}

function released(method: string): DbSwitchError {
  return new DbSwitchError(
    'ESESSION_RELEASED',
    `${method}() on a pool connection after release(); it now serves another session. Get a new one with getConnection().`,
  );
}
