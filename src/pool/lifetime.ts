import type { Connection, RowDataPacket } from '../driver/mysql2.js';

/** Share of the server's wait_timeout a connection may live, so the server never kills it first. */
const WAIT_TIMEOUT_SHARE = 0.8;
/** Lifetimes are shortened by up to this share at random, so connections opened together do not expire together. */
const JITTER_SHARE = 0.1;

/**
 * How long a new connection may be reused: `maxLifetimeMs` (0: no limit), lowered below the
 * session's `wait_timeout` when that is smaller (SQLAlchemy's pool_recycle advice), with jitter.
 * Asks the server once per new connection; `wait_timeout` can differ per server and change.
 */
export function lifetimeFor(connection: Connection, maxLifetimeMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    connection.query<RowDataPacket[]>(
      'SELECT @@SESSION.wait_timeout AS waitTimeout',
      (err, rows) => {
        if (err) {
          reject(err);
          return;
        }
        const waitTimeoutMs = Number(rows[0]?.['waitTimeout']) * 1000;
        const cap = Number.isFinite(waitTimeoutMs) && waitTimeoutMs > 0 ? waitTimeoutMs * WAIT_TIMEOUT_SHARE : Number.POSITIVE_INFINITY;
        const limit = Math.min(maxLifetimeMs > 0 ? maxLifetimeMs : Number.POSITIVE_INFINITY, cap);
        resolve(Number.isFinite(limit) ? Math.floor(limit * (1 - JITTER_SHARE * Math.random())) : 0);
      },
    );
  });
}
