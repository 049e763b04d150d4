/** Share of the server's wait_timeout a connection may live, so the server never kills it first. */
const WAIT_TIMEOUT_SHARE = 0.8;
/** Lifetimes are shortened by up to this share at random, so connections opened together do not expire together. */
const JITTER_SHARE = 0.1;

/**
 * How long a new connection may be reused, in ms (0: no limit): `maxLifetimeMs` (0: no limit),
 * lowered below the session's `wait_timeout` when that is smaller (SQLAlchemy's pool_recycle
 * advice: the server must never be the one to close an idle pooled connection), with jitter.
 *
 * @example
 * lifetimeMs(28_800, 1_800_000); // about 27-30 min: the configured lifetime wins
 * lifetimeMs(60, 1_800_000);     // about 43-48 s: 80 % of a 60 s wait_timeout
 */
export function lifetimeMs(waitTimeoutSeconds: number | undefined, maxLifetimeMs: number, random: () => number = Math.random): number {
  const waitTimeoutMs = (waitTimeoutSeconds ?? 0) * 1000;
  const cap = Number.isFinite(waitTimeoutMs) && waitTimeoutMs > 0 ? waitTimeoutMs * WAIT_TIMEOUT_SHARE : Number.POSITIVE_INFINITY;
  const limit = Math.min(maxLifetimeMs > 0 ? maxLifetimeMs : Number.POSITIVE_INFINITY, cap);
  return Number.isFinite(limit) ? Math.max(1, Math.floor(limit * (1 - JITTER_SHARE * random()))) : 0;
}
