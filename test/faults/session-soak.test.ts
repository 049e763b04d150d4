/**
 * Fault family: wear. Many sessions, some of them given up on (timeouts, released with a
 * statement in flight), must leave nothing behind: on the server no connection beyond what the
 * pool holds, on the bastion no channel beyond the pool's and none half-closed, in the process
 * no handle after close() and no heap growth with the number of sessions. Runs in a child
 * process started with --expose-gc, so the heap is measured after real collections.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { useBastion } from '../support/bastion.js';
import { startScript } from '../support/fault-script.js';
import { bastionChannels, faultEnv, processlist, runningStatements, sharedServer, Tally, useFaultLogin, type Provider } from '../support/faults.js';
import { eventually } from '../support/test-db.js';

const server = sharedServer;
const login = useFaultLogin('soak', () => server);
const bastion = useBastion();
const scripts: { kill(): void }[] = [];
afterEach(() => {
  for (const script of scripts.splice(0)) script.kill();
});

const POOL_MAX = 10;
const SESSIONS: Record<Provider, number> = { basic: 10_000, ssh: 2_000 };
/** Heap growth allowed between the warm-up and the end, after gc(); a leak of 1 KiB per session would exceed it. */
const HEAP_GROWTH_BOUND = 4 * 1024 * 1024;

/**
 * The child: runs `sessions` sessions 20 at a time after a warm-up of 200. Every 100th has a
 * statement time out (20 ms, killed on the server), every 250th releases its session with a
 * statement in flight, every 10th runs a transaction; the rest run SELECT 1 (or a prepared
 * statement) in each of the three session shapes (withSession, getDb, session/release). It prints
 * `loaded {...}`, waits for a line on stdin, closes the Db and prints `closed {...}`, then must
 * exit by itself.
 */
const SCRIPT = (sessions: number): string => `
const command = new Promise((resolve) => process.stdin.once('data', resolve));
// stdout exists before the baseline (console.log creates its pipe), and what start-up left closing is gone
console.log('started');
await sleep(50);
const baseline = process.getActiveResourcesInfo().sort();
const db = await createDb({ env });
const counts = {};
const note = (code) => { counts[code] = (counts[code] ?? 0) + 1; };
const dangling = [];
let slowestMs = 0;
const one = async (i) => {
  const t0 = Date.now();
  try {
    if (i % 100 === 7) {
      await db.withSession((s) => s.query({ sql: 'SELECT SLEEP(1)', timeout: 20 }));
    } else if (i % 250 === 11) {
      await db.withSession(async (s) => {
        dangling.push(s.query('SELECT SLEEP(1)').then(() => 'ok', (err) => 'released:' + err.code));
        await sleep(5);
      });
    } else if (i % 10 === 3) {
      await db.withSession((s) => s.transaction((tx) => tx.query('SELECT 1')));
    } else if (i % 3 === 0) {
      await db.withSession((s) => s.query('SELECT 1'));
    } else if (i % 3 === 1) {
      for await (const s of db.getDb()) await s.query('SELECT 1');
    } else {
      const s = await db.session();
      try { await s.execute('SELECT ? AS x', [i]); } finally { await s.release(); }
    }
    note('ok');
  } catch (err) {
    note(isDbSwitchError(err) ? err.code : 'raw:' + (err.code ?? err.name));
  }
  slowestMs = Math.max(slowestMs, Date.now() - t0);
};
const run = async (from, count) => {
  let next = from;
  const end = from + count;
  await Promise.all(Array.from({ length: 20 }, async () => { while (next < end) await one(next++); }));
};
const heap = () => { globalThis.gc(); globalThis.gc(); return process.memoryUsage().heapUsed; };
await run(0, 200);
const heapStart = heap();
const started = Date.now();
await run(200, ${sessions / 2});
const heapHalf = heap();
await run(200 + ${sessions / 2}, ${sessions / 2});
const heapEnd = heap();
const elapsedMs = Date.now() - started;
for (const code of await Promise.all(dangling)) note(code);
console.log('loaded ' + JSON.stringify({ counts, stats: db.stats, heapStart, heapHalf, heapEnd, elapsedMs, slowestMs }));
await command;
const closing = Date.now();
await db.close();
const closeMs = Date.now() - closing;
await sleep(50);
const after = process.getActiveResourcesInfo().sort();
console.log('closed ' + JSON.stringify({ baseline, after, closeMs, stats: db.stats }));
process.stdin.destroy();
`;

interface Loaded {
  counts: Record<string, number>;
  stats: { open: number; idle: number; leased: number; waiting: number };
  heapStart: number;
  heapHalf: number;
  heapEnd: number;
  elapsedMs: number;
  slowestMs: number;
}

interface Closed {
  baseline: string[];
  after: string[];
  closeMs: number;
  stats: { open: number; leased: number };
}

describe.each(['basic', 'ssh'] as const)('many sessions leave nothing behind (%s)', (provider) => {
  const sessions = SESSIONS[provider];
  it(`${sessions} sessions, some timed out or released mid-statement: no extra connection, channel, handle or heap`, { timeout: 60_000 }, async () => {
    const env = faultEnv(provider, server, login, bastion, { DB_POOL_MAX: String(POOL_MAX) });
    const script = startScript(SCRIPT(sessions), env, { nodeArgs: ['--expose-gc'], timeoutMs: 50_000 });
    scripts.push(script);
    const loaded = JSON.parse((await script.waitFor(/^loaded (.*)$/m, 45_000)).match[1] ?? '{}') as Loaded;

    // What the callers saw: every call settled, with a result or a coded error.
    const tally = new Tally();
    for (const [code, n] of Object.entries(loaded.counts)) tally.counts.set(code, n);
    tally.slowestMs = loaded.slowestMs;
    const timedOut = Math.floor((sessions + 200) / 100);
    expect(Object.keys(loaded.counts).filter((code) => code.startsWith('raw:'))).toEqual([]);
    expect(tally.count('ETIMEOUT')).toBeGreaterThanOrEqual(timedOut - 1);
    expect(tally.count('released:ESESSION_RELEASED')).toBeGreaterThan(0);
    expect(tally.count('ok') + tally.count('ETIMEOUT')).toBe(sessions + 200);
    expect(loaded.stats).toMatchObject({ leased: 0, waiting: 0 });
    expect(loaded.stats.open).toBeLessThanOrEqual(POOL_MAX);

    // The server: what the pool holds (+1 control connection), nothing running.
    expect(await eventually(async () => (await runningStatements(server, login.user)).length === 0, 1000)).toBe(true);
    const connections = (await processlist(server, login.user)).length;
    expect(connections).toBeGreaterThanOrEqual(loaded.stats.open);
    expect(connections).toBeLessThanOrEqual(loaded.stats.open + 1);
    // The bastion: one forwarded channel per server connection, none half-closed, one SSH connection.
    if (provider === 'ssh') {
      const channels = bastionChannels(bastion.current, server.port);
      expect(channels.closeWait).toBe(0);
      expect(channels.established).toBe(connections);
      expect(await bastion.current.openConnections()).toBe(1);
    }
    // The heap: bounded, not growing with the number of sessions.
    const growth = loaded.heapEnd - loaded.heapStart;
    expect(growth).toBeLessThan(HEAP_GROWTH_BOUND);

    script.send('close');
    const printed = await script.waitFor(/^closed (.*)$/m, 10_000);
    const closed = JSON.parse(printed.match[1] ?? '{}') as Closed;
    const exit = await script.exited;
    // The process: the same handles as before createDb(), and it exits by itself.
    expect(closed.after).toEqual(closed.baseline);
    expect(closed.closeMs).toBeLessThan(2000);
    expect(closed.stats).toMatchObject({ open: 0, leased: 0 });
    expect(exit.stderr).toBe('');
    expect(exit.code).toBe(0);
    // nothing keeps it alive once closed (waitFor polls every 10 ms)
    expect(exit.exitedAt - printed.at).toBeLessThan(1000);
    expect(await eventually(async () => (await processlist(server, login.user)).length === 0, 2000)).toBe(true);
    if (provider === 'ssh') {
      expect(await eventually(async () => (await bastion.current.openConnections()) === 0, 2000)).toBe(true);
      expect(bastionChannels(bastion.current, server.port).total).toBe(0);
    }
    tally.print(
      `${provider} ${sessions} sessions (1% timed out, 0.4% released mid-statement), DB_POOL_MAX=${POOL_MAX}`,
      `${Math.round(sessions / (loaded.elapsedMs / 1000))} sessions/s, heap growth ${(growth / 1024).toFixed(0)} KiB ` +
        `(first half ${((loaded.heapHalf - loaded.heapStart) / 1024).toFixed(0)} KiB), server connections ${connections}, close ${closed.closeMs} ms`,
    );
  });
});
