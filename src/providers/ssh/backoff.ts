const BACKOFF_BASE_MS = 250;
const BACKOFF_MAX_MS = 8000;

/**
 * How long to wait before SSH connect attempt number `failures` + 1: exponential from 250 ms to
 * 8 s, with jitter ("equal jitter": half fixed, half random), so a fleet of clients that lost the
 * same bastion does not come back in step.
 */
export function backoffMs(failures: number, random: () => number = Math.random): number {
  if (failures <= 0) return 0;
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (failures - 1));
  return ceiling / 2 + (random() * ceiling) / 2;
}

/** After a connection that worked dropped: a short random pause spreads a fleet's reconnects. */
export function reconnectDelayMs(random: () => number = Math.random): number {
  return random() * BACKOFF_BASE_MS;
}
