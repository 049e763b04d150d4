// @ts-check
// Measuring helpers shared by the benchmarks. Every loop is bounded in time and count.
import { performance } from 'node:perf_hooks';

export const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3);
export const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const MAX_OPS = 5_000_000;
const BIG_REPEATS = 5;

/** @typedef {(sql: string) => Promise<unknown>} Runner */

/** Operations per second of `run('SELECT 1')` at `concurrency`, for SECONDS. */
export async function throughput(/** @type {Runner} */ run, /** @type {number} */ concurrency) {
  const deadline = performance.now() + SECONDS * 1000;
  let ops = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline && ops < MAX_OPS) {
        await run('SELECT 1');
        ops++;
      }
    }),
  );
  return ops / ((performance.now() - started) / 1000);
}

/** Milliseconds to fetch `sql`'s (large) result, median of a few fetches. */
export async function fetchMs(/** @type {Runner} */ run, /** @type {string} */ sql) {
  const times = [];
  for (let i = 0; i < BIG_REPEATS; i++) {
    const started = performance.now();
    await run(sql);
    times.push(performance.now() - started);
  }
  return median(times);
}

/** @param {number[]} values */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/**
 * Runs each measurement for each contender, ROUNDS times in rotating order (so warm-up and
 * drift favour no one), and returns every round's figure: `[title][contender][round]`.
 * @param {Record<string, Runner>} contenders
 * @param {Record<string, (run: Runner) => Promise<number>>} measurements
 * @returns {Promise<Measured>}
 */
export async function compare(contenders, measurements) {
  const names = Object.keys(contenders);
  for (const run of Object.values(contenders)) await throughput(run, 16);
  /** @type {Measured} */
  const samples = {};
  for (let round = 0; round < ROUNDS; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length] ?? '');
    for (const name of order) {
      const run = contenders[name];
      if (run === undefined) continue;
      for (const [title, measure] of Object.entries(measurements)) {
        ((samples[title] ??= {})[name] ??= []).push(await measure(run));
      }
    }
  }
  return samples;
}

/** @typedef {Record<string, Record<string, number[]>>} Measured */

/**
 * A Markdown table: one row per measurement, one column per contender (its median), and the
 * first contender's speed relative to each other (for times, lower is better). A ratio is the
 * median of the rounds' ratios, each between figures measured back to back: this VM drifts by
 * more between rounds than two contenders differ within one.
 * @param {Measured} measured
 * @param {string[]} names
 */
export function table(measured, names) {
  const [ours, ...others] = names;
  const lines = [
    `| measurement | ${names.join(' | ')} | ${others.map((other) => `${ours ?? ''} / ${other}`).join(' | ')} |`,
    `|---|${names.map(() => '---:').join('|')}|${others.map(() => '---:').join('|')}|`,
  ];
  for (const [title, byName] of Object.entries(measured)) {
    const mine = byName[ours ?? ''] ?? [];
    const ratios = others.map((other) => {
      const theirs = byName[other] ?? [];
      const perRound = mine.map((value, round) => (title.endsWith('(ms)') ? (theirs[round] ?? Number.NaN) / value : value / (theirs[round] ?? Number.NaN)));
      return median(perRound).toFixed(2);
    });
    lines.push(`| ${title} | ${names.map((name) => median(byName[name] ?? []).toFixed(0)).join(' | ')} | ${ratios.join(' | ')} |`);
  }
  return lines.join('\n');
}

export function header() {
  const rss = Math.round(process.memoryUsage().rss / 1024 / 1024);
  return `Node ${process.version}, servers on loopback, ${SECONDS} s per measurement, median of ${ROUNDS} rounds, RSS ${rss} MiB`;
}
