import { expect, it } from 'vitest';
import { runningStatements, sharedServer, sleep, useFaultLogin } from '../support/faults.js';
import { eventually, openDb } from '../support/test-db.js';

const login = useFaultLogin('handover', () => sharedServer);

// Regression: abort() while the session's statement waited for a connection sent the statement
// anyway once the connection arrived (on a connection already given back), and a KILL QUERY that
// reached the server before the statement was lost: the caller heard ECANCELLED (or even got a
// result) while SLEEP(1) ran its full second on the server.
it('an abort while the connection is being handed over: the statement never runs, or is killed at once', async () => {
  const db = await openDb(login.database, { DB_USER: login.user, DB_PASSWORD: login.password, DB_POOL_MAX: '1' });
  const delays: (() => Promise<unknown>)[] = [
    ...Array.from({ length: 8 }, (_, n) => async () => { for (let i = 0; i < n; i++) await Promise.resolve(); }),
    () => new Promise((resolve) => setImmediate(resolve)),
    ...[0, 1, 2, 3, 5, 10].map((ms) => () => sleep(ms)),
  ];
  const failures: string[] = [];
  for (const [i, delay] of delays.entries()) {
    const holder = await db.session();
    await holder.query('SELECT 1');
    const waiter = await db.session();
    const outcome = waiter.query(`SELECT SLEEP(1) /* handover ${i} */`).then(() => 'ok', (err: unknown) => (err as { code?: string }).code);
    await sleep(20);
    const released = holder.release();
    await delay();
    const aborted = waiter.abort(new Error('client gone'));
    const stopped = await eventually(async () => (await runningStatements(sharedServer, login.user)).length === 0, 300);
    await Promise.all([released, aborted]);
    const code = await outcome;
    if (code !== 'ECANCELLED' || !stopped) failures.push(`delay #${i}: ${String(code)}, ${stopped ? 'stopped' : 'still running after 300 ms'}`);
    await eventually(async () => (await runningStatements(sharedServer, login.user)).length === 0, 1500);
  }
  expect(failures).toEqual([]);
  expect(db.stats.leased).toBe(0);
}, 60_000);
