/**
 * Fault family: the caller gives up on a statement that still runs on the server: its session
 * is released, its AbortSignal fires, its timeout (option or DB_STATEMENT_TIMEOUT_MS) passes.
 * Each time the caller gets its coded error at once, the statement is killed on the server
 * (KILL QUERY on the control connection), the connection is reused, and the server never holds
 * more than pool.max + 1 connections of the pool. Regression tests of issue 7's defects 3
 * (a script exited silently mid-way), 8 (abandoned statements ran on; 3 rounds of 10 aborted
 * SLEEP(5) with DB_POOL_MAX=10 held 30 connections) and 9 (statement timeout).
 */
import type { RowDataPacket } from 'mysql2';
import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/db.js';
import type { DbSession } from '../../src/db-session.js';
import { useBastion } from '../support/bastion.js';
import { runFaultScript } from '../support/fault-script.js';
import {
  closeWaitAfter,
  DbKeeper,
  faultEnv,
  outcome,
  processlist,
  PROVIDERS,
  runningStatements,
  sampleConnections,
  sharedServer,
  Tally,
  useFaultLogin,
  waitForStatements,
  type Outcome,
  type Provider,
} from '../support/faults.js';
import { eventually } from '../support/test-db.js';

const server = sharedServer;
const login = useFaultLogin('abandon', () => server);
const bastion = useBastion();
const dbs = new DbKeeper();
const samplers: { stop: () => Promise<number> }[] = [];
afterEach(async () => {
  // A test that failed half-way leaves its sampler polling the server: stop it.
  await Promise.all(samplers.splice(0).map((sampler) => sampler.stop()));
  await dbs.closeAll();
});

const SLEEP = 'SELECT SLEEP(5)';

function open(provider: Provider, overrides: Record<string, string> = {}): Promise<Db> {
  return dbs.open(faultEnv(provider, server, login, bastion, overrides));
}

async function connectionIdOn(s: DbSession): Promise<number> {
  const [[row]] = await s.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id');
  return Number(row?.['id']);
}

/** Nothing of the pool's user runs on the server within 1 s; returns how long it took. */
async function statementGoneWithin1s(): Promise<number> {
  const from = Date.now();
  expect(await eventually(async () => (await runningStatements(server, login.user)).length === 0, 1000)).toBe(true);
  return Date.now() - from;
}

interface AbandonCase {
  readonly name: string;
  readonly code: 'ESESSION_RELEASED' | 'ECANCELLED' | 'ETIMEOUT';
  readonly env: Record<string, string>;
  /** Starts SLEEP(5) on `s`; `giveUp` is called once it runs on the server. */
  start(s: DbSession): { readonly running: Promise<unknown>; readonly giveUp: () => Promise<void> };
  /** Whether the session lives on afterwards (not for release). */
  readonly sessionGoesOn: boolean;
  /** When the caller must hear: after giveUp (ms), or at the timeout [from, to) after the call. */
  readonly settles: { readonly afterGiveUpMs: number } | { readonly atMs: readonly [number, number] };
}

const CASES: readonly AbandonCase[] = [
  {
    name: 'the session is released while it runs',
    code: 'ESESSION_RELEASED',
    env: {},
    start: (s) => ({ running: s.query(SLEEP), giveUp: () => s.release() }),
    sessionGoesOn: false,
    settles: { afterGiveUpMs: 300 },
  },
  {
    name: 'its AbortSignal fires',
    code: 'ECANCELLED',
    env: {},
    start: (s) => {
      const controller = new AbortController();
      return {
        running: s.query({ sql: SLEEP, signal: controller.signal }),
        giveUp: () => {
          controller.abort(new Error('the client went away'));
          return Promise.resolve();
        },
      };
    },
    sessionGoesOn: true,
    settles: { afterGiveUpMs: 300 },
  },
  {
    name: 'its timeout option (500 ms) passes',
    code: 'ETIMEOUT',
    env: {},
    start: (s) => ({ running: s.query({ sql: SLEEP, timeout: 500 }), giveUp: () => Promise.resolve() }),
    sessionGoesOn: true,
    settles: { atMs: [490, 900] },
  },
  {
    name: 'DB_STATEMENT_TIMEOUT_MS (500) passes',
    code: 'ETIMEOUT',
    env: { DB_STATEMENT_TIMEOUT_MS: '500' },
    start: (s) => ({ running: s.query(SLEEP), giveUp: () => Promise.resolve() }),
    sessionGoesOn: true,
    settles: { atMs: [490, 900] },
  },
];

describe.each(PROVIDERS)('abandoned statements are killed on the server (%s)', (provider) => {
  it.each(CASES)('when $name: $code, killed on the server within 1 s, the connection reused', async (c) => {
    const db = await open(provider, { DB_POOL_MAX: '1', ...c.env });
    const most = sampleConnections(server, login.user);
    samplers.push(most);
    const tally = new Tally();
    const s = await db.session();
    const first = await connectionIdOn(s);
    const { running, giveUp } = c.start(s);
    const result: Promise<Outcome> = outcome(running);
    await waitForStatements(server, login.user, SLEEP);
    const givenUpAt = Date.now();
    await giveUp();
    const settled = await result;
    tally.record(settled);

    // The caller: its coded error, at once (or at the timeout).
    expect(settled.code).toBe(c.code);
    if ('afterGiveUpMs' in c.settles) expect(settled.settledAt - givenUpAt).toBeLessThan(c.settles.afterGiveUpMs);
    else {
      expect(settled.settledAt - settled.startedAt).toBeGreaterThanOrEqual(c.settles.atMs[0]);
      expect(settled.settledAt - settled.startedAt).toBeLessThan(c.settles.atMs[1]);
    }
    // The server: the statement stops within 1 s; never more than pool.max + 1 connections.
    const goneMs = await statementGoneWithin1s();
    // The connection is reused: the kill stopped the statement, not the connection.
    if (c.sessionGoesOn) {
      // regression (defect 9): the same session works on after its statement was given up on
      expect(await connectionIdOn(s)).toBe(first);
      await s.release();
    }
    const reused = await outcome(db.withSession(async (next) => connectionIdOn(next)));
    tally.record(reused);
    expect(reused.code).toBe('ok');
    expect(await db.withSession(connectionIdOn)).toBe(first);
    expect(db.stats.leased).toBe(0);
    expect(await most.stop()).toBeLessThanOrEqual(2);
    if (provider === 'ssh') {
      expect(await closeWaitAfter(bastion.current)).toBe(0);
      expect(await bastion.current.openConnections()).toBe(1);
    }
    await db.close();
    expect(await eventually(async () => (await processlist(server, login.user)).length === 0, 2000)).toBe(true);
    tally.print(`${provider} statement abandoned: ${c.name}`, `killed on the server ${goneMs} ms after the caller heard`);
  });

  it('3 rounds of 10 aborted SLEEP(5) with DB_POOL_MAX=10 never hold more than 11 connections, and reuse them', async () => {
    const db = await open(provider, { DB_POOL_MAX: '10' });
    const tally = new Tally();
    const most = sampleConnections(server, login.user);
    samplers.push(most);
    const ids = new Set<number>();
    const killedIn: number[] = [];
    for (let round = 1; round <= 3; round++) {
      const controllers = Array.from({ length: 10 }, () => new AbortController());
      const heard: number[] = [];
      const calls = controllers.map((controller) =>
        outcome(
          db.withSession(async (s) => {
            ids.add(await connectionIdOn(s));
            await s.query({ sql: SLEEP, signal: controller.signal }).finally(() => heard.push(Date.now()));
          }),
        ),
      );
      await waitForStatements(server, login.user, SLEEP, 10);
      const abortedAt = Date.now();
      for (const controller of controllers) controller.abort();
      const results = await Promise.all(calls);
      for (const result of results) tally.record(result);
      expect(results.map((result) => result.code)).toEqual(Array(10).fill('ECANCELLED'));
      // The statement rejects at once; withSession also waits for the release (the kill on the server).
      expect(Math.max(...heard) - abortedAt).toBeLessThan(300);
      expect(Math.max(...results.map((result) => result.settledAt)) - abortedAt).toBeLessThan(2000);
      killedIn.push(await statementGoneWithin1s());
    }
    const peak = await most.stop();
    expect(peak).toBeLessThanOrEqual(11);
    // reused: three rounds ran on the same ten connections
    expect(ids.size).toBeLessThanOrEqual(10);
    const left = (await processlist(server, login.user)).map((row) => row.ID);
    expect(left.filter((id) => !ids.has(id)).length).toBeLessThanOrEqual(1);
    expect(db.stats).toMatchObject({ leased: 0, waiting: 0 });
    if (provider === 'ssh') expect(await closeWaitAfter(bastion.current)).toBe(0);
    await db.close();
    tally.print(
      `${provider} 3 rounds of 10 aborted SLEEP(5), DB_POOL_MAX=10`,
      `peak server connections=${peak}, distinct pooled connections=${ids.size}, killed on the server within ${Math.max(...killedIn)} ms`,
    );
  });

  it('a script that releases its session while a statement runs goes on to its last line (no silent exit)', async () => {
    const env = faultEnv(provider, server, login, bastion);
    const run = await runFaultScript(
      `const db = await createDb({ env });
const s = await db.session();
const running = s.query('SELECT SLEEP(30)').then(() => 'resolved', (err) => err.name + ' ' + err.code);
await sleep(300);
await s.release();
console.log('awaited release: ' + (await running));
const dangling = await db.session();
const late = dangling.query('SELECT SLEEP(30)').then(() => 'resolved', (err) => err.name + ' ' + err.code);
await sleep(300);
void dangling.release();
console.log('unawaited release: ' + (await late));
const [[row]] = await db.withSession((next) => next.query('SELECT 2 AS two'));
console.log('next session: ' + row.two);
console.log('last line');`,
      env,
      { timeoutMs: 15_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(
      'awaited release: DbSwitchError ESESSION_RELEASED\nunawaited release: DbSwitchError ESESSION_RELEASED\nnext session: 2\nlast line\n',
    );
    expect(run.code).toBe(0);
    // both SLEEP(30)s were killed on the server, not left to run out
    expect(await eventually(async () => (await runningStatements(server, login.user)).length === 0, 1000)).toBe(true);
    expect(await eventually(async () => (await processlist(server, login.user)).length === 0, 2000)).toBe(true);
    if (provider === 'ssh') expect(await eventually(async () => (await bastion.current.openConnections()) === 0, 2000)).toBe(true);
  });
});
