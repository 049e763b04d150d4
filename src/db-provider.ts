import type { Duplex } from 'node:stream';
import type { Connection, SslOptions } from 'mysql2';
import type { DbSwitchError } from './errors.js';

/** One step on the way to the database, as `dbswitch check` reports it. */
export interface RouteHop {
  /** e.g. "database", "ssh bastion". */
  readonly name: string;
  /** `host:port` or a socket path. */
  readonly address: string;
  readonly detail?: string;
}

/** How the database user authenticates; for IAM, what the last token was signed for (never the token). */
export interface AuthReport {
  readonly method: 'password' | 'iam';
  readonly token: { readonly signedFor: string; readonly user: string; readonly expiresAt: Date } | undefined;
}

/**
 * One new physical connection, authenticated, as a provider hands it to the pool. The pool owns
 * it from then on: it decides when it is reused, reset and closed.
 */
export interface ProvidedConnection {
  /** The mysql2 connection (callback API), already authenticated. */
  readonly connection: Connection;
  /**
   * Keep the process alive while this connection is in use. The pool calls it when it lends the
   * connection and `letGo` when it goes idle, so an idle pool never keeps a script running.
   * Default: ref/unref of the connection's own socket. A connection is handed over held.
   */
  hold?(): void;
  letGo?(): void;
  /** Frees what the provider opened beside the connection (an SSH channel). Called once, last. */
  dispose?(): void;
  /** When what carries the connection (a tunnel) is to blame for a failure, the error to report. */
  explainLoss?(err: unknown): DbSwitchError | undefined;
}

/**
 * A stream to the database and what to log in with, for a driver that runs the MySQL handshake
 * itself (dbswitch/mysql2's `createConnection`, which Sequelize calls): the route and the
 * credentials are dbswitch's, the connection is the driver's.
 */
export interface Transport {
  /** An open (or opening) plain stream to the server; the driver negotiates TLS over it. */
  readonly stream: Duplex;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** The password, or undefined when `authPlugins` answers (IAM). */
  readonly password: string | undefined;
  readonly database: string | undefined;
  /** mysql2 auth plugins (IAM: the token as a cleartext password, on verified TLS only). */
  readonly authPlugins: Record<string, unknown> | undefined;
  /** mysql2's ssl options for `db.tls`, made once per provider. */
  readonly ssl: SslOptions | undefined;
  /** Frees what the provider opened beside the stream (holds on the tunnel). */
  dispose(): void;
}

/** A client of a local port, as `dbswitch tunnel` reports it. */
export interface ToolClientEvent {
  readonly kind: 'open' | 'close' | 'error';
  readonly client: string;
  readonly detail?: string;
}

/** What {@link DbProvider.toolEndpoint} is asked for. */
export interface ToolEndpointOptions {
  /** Port on 127.0.0.1 to listen on when the route needs a local port; 0 picks a free one. */
  readonly localPort: number;
  /** Told about each client of the local port. */
  readonly onClient?: (event: ToolClientEvent) => void;
}

/**
 * Where and as whom a program outside this process (the mariadb client, a migration tool, a GUI)
 * logs in: the database itself, or a local port this process forwards to it.
 */
export interface ToolEndpoint {
  readonly host: string;
  readonly port: number;
  /** A unix socket to use instead of host and port. */
  readonly socketPath: string | undefined;
  readonly user: string;
  /** The password, or for IAM a fresh token to send as one. */
  readonly password: string | undefined;
  readonly database: string | undefined;
  /** True when `host:port` is a local port that this process forwards (it lives until close()). */
  readonly forwarded: boolean;
  /** One line saying where the endpoint leads, e.g. "db:3306 via bastion:22 (host key SHA256:...)". */
  readonly description: string;
  /** Stops forwarding (no-op when nothing is forwarded). */
  close(): Promise<void>;
}

/**
 * How an application reaches its database: the contract every provider implements, and the
 * service identifier the container binds (to the class registered for `db.type`, or your own).
 *
 * A provider only says how to reach the database. Pooling, session hygiene, cancellation and
 * timeouts are the same for every provider and belong to the `Db` that uses it.
 *
 * @example
 * class MyProvider extends DbProvider {
 *   async connect() { return openConnection(net.connect(3306, 'db.internal'), config); }
 *   route() { return [{ name: 'database', address: 'db.internal:3306' }]; }
 *   toolEndpoint() { return Promise.resolve(directEndpoint(config)); }
 * }
 * const db = await createDb({ configure: (c) => c.rebind(DbProvider).toConstantValue(new MyProvider()) });
 */
export abstract class DbProvider {
  /** Opens one new authenticated connection. Rejects with a DbSwitchError (ECONNECT, EAUTH, ETLS, ETUNNEL...). */
  abstract connect(): Promise<ProvidedConnection>;

  /** The hops between this process and the database, for `dbswitch check`. */
  abstract route(): readonly RouteHop[];

  /** Where an external tool logs in; opens a local port when the route needs one (ssh). */
  abstract toolEndpoint(options: ToolEndpointOptions): Promise<ToolEndpoint>;

  /**
   * A stream and a login for a driver that runs its own handshake. Optional: a provider without
   * it serves dbswitch's pool (and every ORM on `db.pool()`), not dbswitch/mysql2's
   * `createConnection`.
   */
  openTransport?(): Promise<Transport>;

  /** How the database user authenticates, for `dbswitch check` (never a secret). */
  auth(): AuthReport {
    return { method: 'password', token: undefined };
  }

  /**
   * Frees what the provider holds beside connections (an SSH connection). Called when the pool
   * has closed every connection: after the linger, and by `db.close()`. A later `connect()` opens
   * what it needs again.
   */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
