/**
 * Fault family: the server closes a connection under the pool (KILL CONNECTION, as an operator,
 * a proxy or wait_timeout would), while a statement runs on it and while it sits idle.
 * Regression tests of issue 7's defects 1 (a statement on a killed connection never settled over
 * ssh) and 2 (half-closed channels piled up on the bastion in CLOSE-WAIT).
 */
import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import type { RowDataPacket } from 'mysql2';
import ssh2 from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import { useBastion } from '../support/bastion.js';
import {
  cancelStillKills,
  closeWaitAfter,
  DbKeeper,
  faultEnv,
  outcome,
  processlist,
  PROVIDERS,
  recover,
  runningStatements,
  sharedServer,
  Tally,
  useFaultLogin,
  waitForStatements,
  type Provider,
} from '../support/faults.js';
import { streamOf } from '../../src/driver/mysql2.js';
import { eventually } from '../support/test-db.js';

const server = sharedServer;
const login = useFaultLogin('kill', () => server);
const bastion = useBastion();
const dbs = new DbKeeper();
afterEach(() => dbs.closeAll());

const POOL_MAX = 4;
const ROUNDS = 5;

function open(provider: Provider, overrides: Record<string, string> = {}): ReturnType<DbKeeper['open']> {
  return dbs.open(faultEnv(provider, server, login, bastion, { DB_POOL_MAX: String(POOL_MAX), ...overrides }));
}

async function connectionId(db: Awaited<ReturnType<typeof open>>): Promise<number> {
  const [[row]] = await db.withSession((s) => s.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id'));
  return Number(row?.['id']);
}

/** KILL CONNECTION of each id, and wait until the server has let go of them. */
async function killConnections(ids: readonly number[]): Promise<void> {
  for (const id of ids) await server.admin(`KILL CONNECTION ${id}`);
  // KILL answers before the victim's thread has closed its socket.
  const gone = await eventually(async () => (await processlist(server, login.user)).every((row) => !ids.includes(row.ID)), 3000);
  expect(gone).toBe(true);
}

it('the bastion CLOSE-WAIT count sees a channel its client leaves half-closed (the measure is live)', async () => {
  // A plain ssh2 client that never closes a channel whose database end the server closed: what
  // mysql2 alone does over a channel. The assertions below would catch it.
  const ssh = bastion.current;
  const client = new ssh2.Client();
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve).once('error', reject);
      client.connect({ host: ssh.host, port: ssh.port, username: ssh.user, privateKey: readFileSync(ssh.clientKeyPath) });
    });
    const channel = await new Promise<ssh2.ClientChannel>((resolve, reject) => {
      client.forwardOut('127.0.0.1', 0, '127.0.0.1', server.port, (err, opened) => {
        if (err !== undefined) reject(err);
        else resolve(opened);
      });
    });
    channel.on('data', () => undefined);
    expect(await eventually(() => Promise.resolve(ssh.sockets().some((s) => s.remotePort === server.port && s.state === 'ESTABLISHED')))).toBe(true);
    // The server's side of this one channel: the connection from sshd's local port.
    const sshdPort = ssh.sockets().find((s) => s.remotePort === server.port)?.localPort ?? 0;
    const [unauthenticated] = await server.admin<{ ID: number }[]>('SELECT ID FROM information_schema.PROCESSLIST WHERE HOST = ?', [`127.0.0.1:${sshdPort}`]);
    expect(unauthenticated).toBeDefined();
    expect(ssh.closeWaitSockets()).toBe(0);
    await server.admin(`KILL CONNECTION ${unauthenticated?.ID ?? 0}`);
    expect(await eventually(() => Promise.resolve(ssh.closeWaitSockets() === 1), 2000)).toBe(true);
    channel.destroy();
    expect(await closeWaitAfter(ssh)).toBe(0);
  } finally {
    client.end();
  }
  expect(await eventually(async () => (await ssh.openConnections()) === 0, 2000)).toBe(true);
});

describe.each(PROVIDERS)('KILL CONNECTION (%s)', (provider) => {
  it('settles a statement whose connection the server killed: ECONNECTION_LOST within 2 s, lease returned, close() prompt', async () => {
    const db = await open(provider);
    await connectionId(db);
    const tally = new Tally();
    const running = outcome(db.withSession((s) => s.query('SELECT SLEEP(30)')));
    const [id] = await waitForStatements(server, login.user, 'SELECT SLEEP(30)');
    const killedAt = Date.now();
    await server.admin(`KILL CONNECTION ${id ?? 0}`);
    const result = await running;
    tally.record(result);

    // the caller
    expect(result.code).toBe('ECONNECTION_LOST');
    expect(result.dbSwitchError).toBe(true);
    expect(result.settledAt - killedAt).toBeLessThan(2000);
    expect(db.stats.leased).toBe(0);
    // the server: the statement is gone with its connection, nothing else runs
    expect(await runningStatements(server, login.user)).toEqual([]);
    expect((await processlist(server, login.user)).length).toBeLessThanOrEqual(POOL_MAX + 1);
    // the bastion: no half-closed channel, the SSH connection still up
    if (provider === 'ssh') {
      expect(await closeWaitAfter(bastion.current)).toBe(0);
      expect(await bastion.current.openConnections()).toBe(1);
    }
    // and the next session works, on a new connection
    tally.recoveryMs = await recover(() => connectionId(db), killedAt, tally);
    expect(tally.count('ECONNECTION_LOST')).toBe(1);

    const closing = Date.now();
    await db.close();
    expect(Date.now() - closing).toBeLessThan(2000);
    expect(await eventually(async () => (await processlist(server, login.user)).length === 0, 2000)).toBe(true);
    if (provider === 'ssh') expect(await eventually(async () => (await bastion.current.openConnections()) === 0, 2000)).toBe(true);
    tally.print(`${provider} KILL CONNECTION of a running SELECT SLEEP(30)`);
  });

  // mysql2 tells a network break under a command only that command's callback: the pool learns
  // it from the observer at once, not when the session gives the connection back.
  it('drops a connection whose carrier broke under a raw statement at once; the session goes on on a new one', async () => {
    const db = await open(provider);
    await connectionId(db);
    let brokenId = 0;
    let raw: unknown;
    const next = await db.withSession(async (s) => {
      const connection = await s.connect();
      brokenId = connection.threadId;
      raw = connection.query('SELECT SLEEP(0.5)').then(
        () => 'not failed',
        (err: unknown) => err,
      );
      await waitForStatements(server, login.user, 'SELECT SLEEP(0.5)');
      const brokeAt = Date.now();
      (streamOf(connection) as Duplex).destroy();
      // the caller: the raw statement fails as lost, promptly; the pool dropped the connection
      expect(await raw).toMatchObject({ code: 'PROTOCOL_CONNECTION_LOST', fatal: true });
      expect(Date.now() - brokeAt).toBeLessThan(1000);
      expect(db.stats.open).toBe(0);
      const [[row]] = await s.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id');
      return Number(row?.['id']);
    });
    expect(next).not.toBe(brokenId);
    expect(db.stats).toMatchObject({ open: 1, leased: 0 });
    // the server: the broken connection's statement ends and its thread goes; nothing else runs
    expect(await eventually(async () => (await processlist(server, login.user)).every((row) => row.ID !== brokenId), 3000)).toBe(true);
    expect(await runningStatements(server, login.user)).toEqual([]);
    // the bastion: no half-closed channel, the one SSH connection still up
    if (provider === 'ssh') {
      expect(await closeWaitAfter(bastion.current)).toBe(0);
      expect(await bastion.current.openConnections()).toBe(1);
    }
  });

  it(`leaves no half-closed channel after ${ROUNDS} rounds of killing idle (control included) and in-flight connections`, async () => {
    const db = await open(provider);
    const idle = new Tally();
    const inFlight = new Tally();
    const idleRecoveries: number[] = [];
    const inFlightRecoveries: number[] = [];
    await cancelStillKills(db, server, login.user);
    for (let round = 1; round <= ROUNDS; round++) {
      // Fill the pool, then kill every idle connection behind its back, the control connection
      // (opened by the cancel before the loop, or at the end of the last round) with them.
      await Promise.all(Array.from({ length: POOL_MAX }, () => db.withSession((s) => s.query('SELECT SLEEP(0.02)'))));
      const idleIds = (await processlist(server, login.user)).map((row) => row.ID);
      expect(idleIds).toHaveLength(POOL_MAX + 1);
      await killConnections(idleIds);
      const idleKilledAt = Date.now();
      if (provider === 'ssh') expect(await closeWaitAfter(bastion.current)).toBe(0);
      // No caller sees the dead idle connections: every new session gets a live one.
      const after = await Promise.all(Array.from({ length: POOL_MAX }, () => outcome(connectionId(db))));
      for (const result of after) idle.record(result);
      expect(after.map((result) => result.code)).toEqual(Array(POOL_MAX).fill('ok'));
      idleRecoveries.push(Math.min(...after.map((result) => result.settledAt)) - idleKilledAt);

      // Now kill connections while their statements run.
      const running = Array.from({ length: POOL_MAX }, () => outcome(db.withSession((s) => s.query('SELECT SLEEP(30)'))));
      const busyIds = await waitForStatements(server, login.user, 'SELECT SLEEP(30)', POOL_MAX);
      const busyKilledAt = Date.now();
      for (const id of busyIds) await server.admin(`KILL CONNECTION ${id}`);
      const results = await Promise.all(running);
      for (const result of results) inFlight.record(result);
      expect(results.map((result) => result.code)).toEqual(Array(POOL_MAX).fill('ECONNECTION_LOST'));
      expect(Math.max(...results.map((result) => result.settledAt)) - busyKilledAt).toBeLessThan(2000);
      expect(db.stats.leased).toBe(0);

      // The server: nothing runs, no connection beyond pool.max (+1 control).
      expect(await runningStatements(server, login.user)).toEqual([]);
      expect((await processlist(server, login.user)).length).toBeLessThanOrEqual(POOL_MAX + 1);
      // The bastion: no half-closed socket, and still the one SSH connection.
      if (provider === 'ssh') {
        expect(await closeWaitAfter(bastion.current)).toBe(0);
        expect(await bastion.current.openConnections()).toBe(1);
      }
      inFlightRecoveries.push(await recover(() => connectionId(db), busyKilledAt, inFlight));
      // The killed control connection is replaced: a cancel still stops a statement on the server.
      await cancelStillKills(db, server, login.user);
    }
    idle.recoveryMs = Math.max(...idleRecoveries);
    inFlight.recoveryMs = Math.max(...inFlightRecoveries);
    expect(idle.count('ok')).toBe(ROUNDS * POOL_MAX);
    expect(inFlight.count('ECONNECTION_LOST')).toBe(ROUNDS * POOL_MAX);
    expect(inFlight.rawCodes()).toEqual([]);

    const closing = Date.now();
    await db.close();
    expect(Date.now() - closing).toBeLessThan(2000);
    expect(await eventually(async () => (await processlist(server, login.user)).length === 0, 2000)).toBe(true);
    if (provider === 'ssh') {
      expect(bastion.current.closeWaitSockets()).toBe(0);
      expect(await eventually(async () => (await bastion.current.openConnections()) === 0, 2000)).toBe(true);
    }
    idle.print(`${provider} KILL CONNECTION of idle pooled connections (${ROUNDS} rounds of ${POOL_MAX}; calls after the kill)`);
    inFlight.print(`${provider} KILL CONNECTION of in-flight statements (${ROUNDS} rounds of ${POOL_MAX})`);
  });
});
