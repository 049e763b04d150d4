import type { DbSwitchConfig } from './config/config.js';
import type { SessionHost } from './db-session.js';
import { DbSwitchError } from './errors.js';
import type { Logger } from './logging/create-logger.js';
import type { PoolStats } from './pool/connection-pool.js';
import type { PooledConnection } from './pool/pooled-connection.js';

/** One step on the way to the database, as `dbswitch check` reports it. */
export interface RouteHop {
  /** e.g. "database", "ssh bastion". */
  readonly name: string;
  /** `host:port` or a socket path. */
  readonly address: string;
  readonly detail?: string;
}

/** How the database user authenticates; for IAM, what the last token was signed for. */
export interface AuthReport {
  readonly method: 'password' | 'iam';
  readonly token: { readonly signedFor: string; readonly user: string; readonly expiresAt: Date } | undefined;
}

/**
 * How an application reaches its database: the contract every provider implements, and the
 * service identifier the container binds (to `registry[db.type]`, or your own class).
 *
 * A provider owns its connections (and, for ssh, the tunnel): it lends them to sessions and takes
 * them back. Most providers extend `PooledProvider` and only say how to open one connection.
 *
 * @example
 * container.rebind(DbProvider).to(MyProvider).inSingletonScope();
 */
export abstract class DbProvider implements SessionHost {
  protected readonly config: DbSwitchConfig;
  readonly logger: Logger;

  constructor(config: DbSwitchConfig, logger: Logger) {
    this.config = config;
    this.logger = logger;
  }

  get logQueries(): boolean {
    return this.config.log.queries;
  }

  get resetOnRelease(): boolean {
    return this.config.pool.resetOnRelease;
  }

  abstract acquire(): Promise<PooledConnection>;
  abstract release(conn: PooledConnection): void;
  abstract destroy(conn: PooledConnection): void;

  /** Waits up to `timeoutMs` for borrowed connections, then closes everything. Idempotent. */
  abstract close(timeoutMs: number): Promise<void>;

  /** The hops between this process and the database. */
  abstract route(): readonly RouteHop[];

  /** How the database user authenticates, for `dbswitch check` (never a secret). */
  auth(): AuthReport {
    return { method: this.config.db.auth, token: undefined };
  }

  abstract get stats(): PoolStats;

  /** A connection broke while a statement ran. */
  lostError(err: unknown, conn: PooledConnection | undefined): DbSwitchError {
    const explained = conn?.explainLoss(err);
    if (explained !== undefined) return explained;
    const reason = err instanceof Error ? err.message : String(err);
    return new DbSwitchError(
      'ECONNECTION_LOST',
      `the connection to the database broke while a statement was running (${reason}); it has been discarded and the next session gets a new one`,
      { cause: err },
    );
  }
}
