/** How long a connection lives, and how long the ssh provider waits before reconnecting. */
import { describe, expect, it } from 'vitest';
import { lifetimeMs } from '../../src/pool/lifetime.js';
import { backoffMs, reconnectDelayMs } from '../../src/providers/ssh/backoff.js';

describe('lifetimeMs', () => {
  const noJitter = (): number => 0;
  const fullJitter = (): number => 0.999_999;

  it('keeps a connection under 80 % of the server’s wait_timeout when that is below pool.maxLifetimeMs', () => {
    expect(lifetimeMs(60, 1_800_000, noJitter)).toBe(48_000);
    expect(lifetimeMs(10, 1_800_000, noJitter)).toBe(8_000);
  });

  it('uses pool.maxLifetimeMs when the server allows longer', () => {
    expect(lifetimeMs(28_800, 1_800_000, noJitter)).toBe(1_800_000);
  });

  it('shortens by at most 10 % at random, never lengthens', () => {
    expect(lifetimeMs(10, 1_800_000, fullJitter)).toBeGreaterThanOrEqual(7_200);
    expect(lifetimeMs(10, 1_800_000, fullJitter)).toBeLessThan(7_201);
    for (let i = 0; i < 200; i++) {
      const lifetime = lifetimeMs(28_800, 1_800_000);
      expect(lifetime).toBeGreaterThan(1_620_000);
      expect(lifetime).toBeLessThanOrEqual(1_800_000);
    }
  });

  it('with pool.maxLifetimeMs = 0 is bounded by wait_timeout alone, and unlimited (0) without one', () => {
    expect(lifetimeMs(28_800, 0, noJitter)).toBe(23_040_000);
    expect(lifetimeMs(0, 0)).toBe(0);
    expect(lifetimeMs(undefined, 0)).toBe(0);
    expect(lifetimeMs(Number.NaN, 0)).toBe(0);
  });

  it('ignores a wait_timeout it could not read', () => {
    expect(lifetimeMs(Number.NaN, 1_800_000, noJitter)).toBe(1_800_000);
    expect(lifetimeMs(undefined, 1_800_000, noJitter)).toBe(1_800_000);
  });

  it('never returns 0 (no limit) for a tiny limit', () => {
    expect(lifetimeMs(0.000_1, 1_800_000, noJitter)).toBe(1);
  });
});

describe('backoffMs and reconnectDelayMs', () => {
  it('does not wait before the first attempt', () => {
    expect(backoffMs(0)).toBe(0);
    expect(backoffMs(-1)).toBe(0);
  });

  it('grows from 250 ms, doubling, to a cap of 8 s', () => {
    const ceiling = (failures: number): number => backoffMs(failures, () => 1);
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(ceiling)).toEqual([250, 500, 1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it('keeps half of the ceiling fixed and jitters the other half', () => {
    expect(backoffMs(3, () => 0)).toBe(500);
    expect(backoffMs(3, () => 0.5)).toBe(750);
    for (let i = 0; i < 200; i++) {
      const delay = backoffMs(30);
      expect(delay).toBeGreaterThanOrEqual(4_000);
      expect(delay).toBeLessThanOrEqual(8_000);
    }
  });

  it('pauses less than 250 ms before reconnecting after a drop', () => {
    expect(reconnectDelayMs(() => 0)).toBe(0);
    for (let i = 0; i < 200; i++) {
      const delay = reconnectDelayMs();
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(250);
    }
  });
});
