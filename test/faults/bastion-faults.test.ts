/**
 * Fault family: the bastion fails under the tunnel. sshd is killed (-9) and restarted; sshd
 * stops answering (SIGSTOP of it and every connection it serves) and comes back (SIGCONT); the
 * SSH agent is dead while the key is refused. Statements in flight get ETUNNEL within a bound,
 * the next session reconnects, nothing is left half-open on the bastion or running on the
 * server. Regression test of issue 7's defect 4 (a dead agent socket crashed the process).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/db.js';
import { useBastion } from '../support/bastion.js';
import { runFaultScript } from '../support/fault-script.js';
import {
  bastionChannels,
  cancelStillKills,
  closeWaitAfter,
  DbKeeper,
  faultEnv,
  outcome,
  processlist,
  recover,
  runningStatements,
  sharedServer,
  Tally,
  useFaultLogin,
  waitForStatements,
  type Outcome,
} from '../support/faults.js';
import { eventually } from '../support/test-db.js';

const server = sharedServer;
const login = useFaultLogin('bastion', () => server);
const bastion = useBastion();
const dbs = new DbKeeper();
afterEach(async () => {
  await dbs.closeAll();
  // A test that failed half-way may leave the bastion stopped or down: the next one needs it.
  bastion.current.resume();
  if (bastion.current.pid === 0) await bastion.current.start();
});

const POOL_MAX = 4;
/** Long enough to be in flight at the fault, short enough that an orphan on the server ends soon. */
const IN_FLIGHT = 'SELECT SLEEP(3)';

function open(overrides: Record<string, string> = {}): Promise<Db> {
  return dbs.open(faultEnv('ssh', server, login, bastion, { DB_POOL_MAX: String(POOL_MAX), DB_CONNECT_TIMEOUT_MS: '2000', ...overrides }));
}

/** Fills the pool, then starts POOL_MAX statements that run until the fault. */
async function inFlight(db: Db): Promise<Promise<Outcome>[]> {
  await Promise.all(Array.from({ length: POOL_MAX }, () => db.withSession((s) => s.query('SELECT SLEEP(0.02)'))));
  const running = Array.from({ length: POOL_MAX }, () => outcome(db.withSession((s) => s.query(IN_FLIGHT))));
  await waitForStatements(server, login.user, IN_FLIGHT, POOL_MAX);
  return running;
}

/**
 * After the bastion is back: nothing of the pool runs on the server any more (a statement
 * orphaned by a dead channel runs until MariaDB notices the closed socket, up to its 5 s check,
 * or until it ends), no connection beyond pool.max + 1, nothing half-closed on the bastion.
 */
async function expectCleanAfterwards(): Promise<number> {
  const from = Date.now();
  expect(await eventually(async () => (await runningStatements(server, login.user)).length === 0, 6000)).toBe(true);
  const orphanedMs = Date.now() - from;
  expect((await processlist(server, login.user)).length).toBeLessThanOrEqual(POOL_MAX + 1);
  expect(await closeWaitAfter(bastion.current)).toBe(0);
  expect(await eventually(async () => (await bastion.current.openConnections()) === 1, 3000)).toBe(true);
  return orphanedMs;
}

describe('the bastion fails under the tunnel', () => {
  it('sshd kill -9: statements in flight get ETUNNEL within 2 s; after the restart the next session reconnects', async () => {
    const db = await open();
    const tally = new Tally();
    // The control connection (KILL QUERY) rides the tunnel too: open before, reopened after.
    await cancelStillKills(db, server, login.user);
    const running = await inFlight(db);
    const killedAt = Date.now();
    await bastion.current.kill();
    const results = await Promise.all(running);
    for (const result of results) tally.record(result);
    expect(results.map((result) => result.code)).toEqual(Array(POOL_MAX).fill('ETUNNEL'));
    expect(Math.max(...results.map((result) => result.settledAt)) - killedAt).toBeLessThan(2000);
    expect(db.stats).toMatchObject({ leased: 0, open: 0 });

    // While the bastion is down: a coded error at once (connection refused), no hang.
    const down = await outcome(db.withSession((s) => s.query('SELECT 1')));
    tally.record(down);
    expect(down.code).toBe('ETUNNEL');
    expect(down.settledAt - down.startedAt).toBeLessThan(2000);

    await bastion.current.start();
    const backAt = Date.now();
    tally.recoveryMs = await recover(() => db.withSession((s) => s.query('SELECT 1')), backAt, tally);
    expect(tally.recoveryMs).toBeLessThan(3000);
    const orphanedMs = await expectCleanAfterwards();
    expect(tally.rawCodes()).toEqual([]);
    await cancelStillKills(db, server, login.user);

    const closing = Date.now();
    await db.close();
    expect(Date.now() - closing).toBeLessThan(2000);
    expect(await eventually(async () => (await bastion.current.openConnections()) === 0, 2000)).toBe(true);
    tally.print('ssh kill -9 + restart of sshd', `orphaned statements gone from the server ${orphanedMs} ms after recovery`);
  });

  it('SIGSTOP of the bastion: statements in flight get ETUNNEL within ~5 keepalive intervals; after SIGCONT the next session reconnects', async () => {
    const intervalMs = 200;
    const db = await open({ SSH_KEEPALIVE_INTERVAL_MS: String(intervalMs) });
    const tally = new Tally();
    await cancelStillKills(db, server, login.user);
    const running = await inFlight(db);
    const stoppedAt = Date.now();
    bastion.current.pause();
    let resumed = false;
    try {
      const results = await Promise.all(running);
      for (const result of results) tally.record(result);
      expect(results.map((result) => result.code)).toEqual(Array(POOL_MAX).fill('ETUNNEL'));
      expect(String((results[0]?.error as Error | undefined)?.message)).toContain('keepalive');
      const noticedMs = Math.max(...results.map((result) => result.settledAt)) - stoppedAt;
      expect(noticedMs).toBeLessThan(5 * intervalMs + 500);
      expect(db.stats).toMatchObject({ leased: 0, open: 0 });

      // While it stays stopped: the SSH handshake cannot finish; ETUNNEL at DB_CONNECT_TIMEOUT_MS.
      const stuck = await outcome(db.withSession((s) => s.query('SELECT 1')));
      tally.record(stuck);
      expect(stuck.code).toBe('ETUNNEL');
      expect(stuck.settledAt - stuck.startedAt).toBeLessThan(2000 + 1000);
      expect(db.stats.leased).toBe(0);

      bastion.current.resume();
      resumed = true;
      const resumedAt = Date.now();
      tally.recoveryMs = await recover(() => db.withSession((s) => s.query('SELECT 1')), resumedAt, tally);
      expect(tally.recoveryMs).toBeLessThan(3000);
      const orphanedMs = await expectCleanAfterwards();
      expect(tally.rawCodes()).toEqual([]);
      await cancelStillKills(db, server, login.user);
      tally.print(
        `ssh SIGSTOP of sshd (SSH_KEEPALIVE_INTERVAL_MS=${intervalMs}) then SIGCONT`,
        `in-flight failed ${noticedMs} ms after the stop, orphaned statements gone ${orphanedMs} ms after recovery`,
      );
    } finally {
      if (!resumed) bastion.current.resume();
    }
    const closing = Date.now();
    await db.close();
    expect(Date.now() - closing).toBeLessThan(2000);
  });

  describe('a dead SSH agent and a refused login', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dbswitch-dead-agent-'));
    afterAll(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('give a catchable EAUTH and no uncaught exception (in a child process)', async () => {
      // An agent socket that existed and is gone: a unix socket server, listened on and closed.
      const gone = join(dir, 'gone.sock');
      const listener = createServer();
      await new Promise<void>((resolve) => listener.listen(gone, resolve));
      await new Promise<void>((resolve) => listener.close(() => { resolve(); }));
      // An agent socket whose file is still there, with nobody listening (the agent was killed -9).
      const stale = join(dir, 'stale.sock');
      const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up'))`], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      await new Promise((resolve) => holder.stdout.once('data', resolve));
      const holderExited = new Promise((resolve) => holder.once('exit', resolve));
      holder.kill('SIGKILL');
      await holderExited;
      // A key the bastion does not know.
      const stranger = join(dir, 'stranger_key');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger], { stdio: 'ignore' });

      const base = faultEnv('ssh', server, login, bastion);
      const cases = {
        'agent gone, no key': { ...base, SSH_PRIVATE_KEY_PATH: '', SSH_AUTH_SOCK: gone },
        'agent gone, refused key': { ...base, SSH_PRIVATE_KEY_PATH: stranger, SSH_AUTH_SOCK: gone },
        'agent socket stale, refused key': { ...base, SSH_PRIVATE_KEY_PATH: stranger, SSH_AUTH_SOCK: stale },
      };
      const loginsBefore = await bastion.current.acceptedLogins();
      const run = await runFaultScript(
        `const cases = ${JSON.stringify(cases)};
for (const [name, caseEnv] of Object.entries(cases)) {
  const db = await createDb({ env: caseEnv });
  const started = Date.now();
  try {
    await db.withSession((s) => s.query('SELECT 1'));
    console.log(name + ': connected');
  } catch (err) {
    console.log(name + ': ' + (err instanceof DbSwitchError ? 'DbSwitchError ' + err.code : 'other ' + String(err)) + (Date.now() - started < 5000 ? ' promptly' : ' late'));
  }
  // a late 'error' from ssh2 (the agent, then the failed login) would surface here
  await sleep(200);
  await db.close();
}
console.log('last line');`,
        {},
      );
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe(
        'agent gone, no key: DbSwitchError EAUTH promptly\n' +
          'agent gone, refused key: DbSwitchError EAUTH promptly\n' +
          'agent socket stale, refused key: DbSwitchError EAUTH promptly\n' +
          'last line\n',
      );
      expect(run.code).toBe(0);
      // The bastion let nobody in and keeps nothing open; the server never saw a connection.
      expect(await bastion.current.acceptedLogins()).toBe(loginsBefore);
      expect(await processlist(server, login.user)).toEqual([]);
      expect(await eventually(async () => (await bastion.current.openConnections()) === 0, 2000)).toBe(true);
      expect(bastionChannels(bastion.current, server.port).total).toBe(0);
      console.log('[fault] ssh dead agent socket + refused key (3 variants, child process): ok=0, EAUTH=3, lost=0, ambiguous=0, recovery=n/a, uncaught=0');
    });
  });
});
