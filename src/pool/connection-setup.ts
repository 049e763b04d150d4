import type { RowDataPacket } from '../driver/mysql2.js';
import { DbSwitchError } from '../errors.js';
import type { ResetMode } from '../config/modes.js';
import { settingLabel } from '../config/setting-label.js';
import type { Logger } from '../logging/create-logger.js';
import { lifetimeMs } from './lifetime.js';
import type { PooledConnection } from './pooled-connection.js';

/** How every connection of a pool is set up, and put back in that state after a reset. */
export interface SessionSetup {
  /** DB_INIT_SQL, split into statements. */
  readonly initSql: readonly string[];
  /** DB_NAME: the schema to return to after a session switched away (USE). */
  readonly database: string | undefined;
  readonly maxLifetimeMs: number;
  readonly resetOnRelease: ResetMode;
  /** Bound on a cleanup (ROLLBACK, reset, setup again); past it the connection is closed. */
  readonly cleanupTimeoutMs: number;
}

const ER_UNKNOWN_SYSTEM_VARIABLE = 'ER_UNKNOWN_SYSTEM_VARIABLE';

/** Runs one of dbswitch's own statements: not counted as a session's change of state. */
function internalQuery<T>(conn: PooledConnection, sql: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    conn.state.internal(() => {
      conn.connection.query(sql, (err: Error | null, rows: unknown) => {
        if (err !== null) reject(err);
        else resolve(rows as T);
      });
    });
  });
}

function internalReset(conn: PooledConnection): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    conn.state.internal(() => {
      conn.connection.reset((err: Error | null | undefined) => {
        if (err != null) reject(err);
        else resolve();
      });
    });
  });
}

/**
 * Turns on the server's session-state tracking (off by default on MariaDB, and turned off again
 * by every COM_RESET_CONNECTION), then runs DB_INIT_SQL. Without tracking (old servers), every
 * used connection is reset on release: correct, just slower.
 */
async function establish(conn: PooledConnection, setup: SessionSetup): Promise<void> {
  try {
    await internalQuery(conn, 'SET SESSION session_track_state_change = 1');
    conn.state.trackingOn = true;
  } catch (err) {
    if ((err as { code?: unknown }).code !== ER_UNKNOWN_SYSTEM_VARIABLE) throw err;
    conn.state.trackingOn = false;
  }
  for (const [index, sql] of setup.initSql.entries()) {
    try {
      await internalQuery(conn, sql);
    } catch (err) {
      throw new DbSwitchError(
        'ECONFIG',
        `${settingLabel('db.initSql')}: statement ${index + 1} of ${setup.initSql.length} failed on the server: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }
}

/** Sets up a new connection: tracking, DB_INIT_SQL, and a lifetime under the server's wait_timeout. */
export async function setUpNewConnection(conn: PooledConnection, setup: SessionSetup): Promise<void> {
  await establish(conn, setup);
  const [row] = await internalQuery<RowDataPacket[]>(conn, 'SELECT @@SESSION.wait_timeout AS waitTimeout');
  const lifetime = lifetimeMs(Number(row?.['waitTimeout']), setup.maxLifetimeMs);
  conn.expiresAt = lifetime > 0 ? Date.now() + lifetime : Number.POSITIVE_INFINITY;
  conn.state.markClean();
}

/**
 * Makes a released connection fit for the next session, as `pool.resetOnRelease` says: nothing
 * when nothing changed, ROLLBACK when only a transaction is open, otherwise COM_RESET_CONNECTION
 * and the setup again. Resolves false when the connection must be closed instead.
 */
export async function cleanUp(conn: PooledConnection, setup: SessionSetup, logger: Logger): Promise<boolean> {
  const plan = conn.state.cleanup(setup.resetOnRelease, setup.database !== undefined);
  if (plan.kind === 'none') return true;
  if (plan.kind === 'destroy') {
    logger.debug({ threadId: conn.threadId, why: plan.why }, 'closing a released connection instead of reusing it');
    return false;
  }
  let timer: NodeJS.Timeout | undefined;
  const work = async (): Promise<boolean> => {
    if (plan.kind === 'rollback') {
      await internalQuery(conn, 'ROLLBACK');
    } else {
      await internalReset(conn);
      conn.renewEpoch();
      await establish(conn, setup);
      if (plan.schemaSwitched && setup.database !== undefined) {
        await internalQuery(conn, `USE ${conn.connection.escapeId(setup.database)}`);
      }
    }
    conn.state.markClean();
    return true;
  };
  try {
    return await Promise.race([
      work(),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(resolve, setup.cleanupTimeoutMs, false);
      }),
    ]);
  } catch (err) {
    logger.debug({ err: String(err), threadId: conn.threadId }, 'cleaning up a released connection failed; closing it');
    return false;
  } finally {
    clearTimeout(timer);
  }
}
