// The shared half of the ORM scripts of test/orm/{kysely,drizzle,knex}*.test.ts (Kysely, Drizzle,
// Knex). Not imported by the tests: copied beside each script into the consumer project, compiled
// there against the published package and run as a child process, with the DB_* / SSH_* / AWS_*
// environment of the provider tested and ORM_ADMIN_SOCKET (root on the server's unix socket) for
// what happens behind the application's back: KILL CONNECTION, the processlist.
//
// stdout: one `REPORT {json}` line (see ScenarioReport); the test asserts on it.
import mysql from 'mysql2/promise';
import type { Db, RowDataPacket } from 'dbswitch';

/** One ORM as a scenario drives it, written in that ORM's own idiom. */
export interface OrmUnderTest {
  /** Drops and creates `items` (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) UNIQUE, qty INT). */
  createTable(): Promise<void>;
  /** Inserts one row; returns its id. */
  insert(name: string, qty: number): Promise<number>;
  /** Every row, by id. */
  list(): Promise<{ name: string; qty: number }[]>;
  /** Sets qty of `name`; returns the rows affected. */
  update(name: string, qty: number): Promise<number>;
  /** Deletes `name`; returns the rows affected. */
  remove(name: string): Promise<number>;
  /** In one transaction, inserts `name`, then throws `failure` when given (so it rolls back). */
  insertInTransaction(name: string, failure?: Error): Promise<void>;
  /** Streams `SELECT seq FROM seq_1_to_<rows>` row by row; stops after `take` rows when given. */
  stream(rows: number, take?: number): Promise<number[]>;
  /** Streams rows of which the third takes `sleepSeconds` to come (a stream to kill). */
  slowStream(sleepSeconds: number): Promise<number[]>;
  /** `SELECT SLEEP(seconds)`. */
  sleep(seconds: number): Promise<unknown>;
  /** `SELECT CONNECTION_ID()`. */
  connectionId(): Promise<number>;
  /** The ORM's own shutdown (Kysely/Knex destroy(); nothing for Drizzle). */
  destroy(): Promise<void>;
}

/** How one call ended. */
export interface Settled {
  readonly status: 'ok' | 'error' | 'hang';
  readonly ms: number;
  readonly code?: string | undefined;
  readonly message?: string | undefined;
}

const ADMIN_SOCKET = process.env['ORM_ADMIN_SOCKET'] ?? '';
const USER = process.env['DB_USER'] ?? '';
const POOL_MAX = Number(process.env['DB_POOL_MAX'] ?? 10);

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs one statement as root on a connection of its own. */
export async function admin<T>(sql: string, values?: unknown[]): Promise<T> {
  const connection = await mysql.createConnection({ socketPath: ADMIN_SOCKET, user: 'root' });
  try {
    return (await connection.query(sql, values))[0] as T;
  } finally {
    await connection.end();
  }
}

interface ProcessRow {
  readonly ID: number;
  readonly COMMAND: string;
  readonly INFO: string | null;
}

/** The server's connections of the application's user. */
export function serverConnections(): Promise<ProcessRow[]> {
  return admin<ProcessRow[]>('SELECT ID, COMMAND, INFO FROM information_schema.PROCESSLIST WHERE USER = ? ORDER BY ID', [USER]);
}

/** Polls `check` every 20 ms until it holds or `limitMs` passed; returns whether it held. */
export async function waitFor(check: () => Promise<boolean> | boolean, limitMs = 3000): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(20);
  }
  return check();
}

/** Awaits `work` for at most `limitMs`; never rejects. */
export async function settle(work: Promise<unknown>, limitMs = 8000): Promise<Settled> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hang'>((resolve) => {
    timer = setTimeout(resolve, limitMs, 'hang');
  });
  const done = work.then(() => 'ok' as const);
  done.catch(() => undefined);
  try {
    const status = await Promise.race([done, hang]);
    return { status, ms: Date.now() - started };
  } catch (err) {
    const { code, message, cause } = err as { code?: unknown; message?: unknown; cause?: { code?: unknown } };
    // Drizzle wraps the driver's error in its own (the driver's is the cause).
    const driverCode = typeof code === 'string' ? code : typeof cause?.code === 'string' ? cause.code : undefined;
    return { status: 'error', ms: Date.now() - started, code: driverCode, message: typeof message === 'string' ? message.slice(0, 200) : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

/** Waits for a statement containing `marker` on the server, KILLs its connection, and waits until it is gone. */
async function killRunning(marker: string): Promise<boolean> {
  let id: number | undefined;
  await waitFor(async () => {
    id = (await serverConnections()).find((row) => row.INFO?.includes(marker) === true)?.ID;
    return id !== undefined;
  });
  if (id === undefined) return false;
  await killConnection(id);
  return true;
}

/** KILL CONNECTION, then wait until the server has let go of it. */
async function killConnection(id: number): Promise<void> {
  await admin(`KILL CONNECTION ${id}`);
  await waitFor(async () => !(await serverConnections()).some((row) => row.ID === id));
}

/** What a scenario saw; every field is asserted by the test. */
export interface ScenarioReport {
  readonly crud: { rows: { name: string; qty: number }[]; firstId: number; updated: number; removed: number };
  readonly committed: boolean;
  readonly rolledBack: { error: string | undefined; rowPresent: boolean };
  readonly streamed: { count: number; sum: number };
  readonly streamStoppedEarly: { rows: number; nextCall: Settled; statementStopped: boolean };
  readonly burst: { ok: number; failed: number; mostServerConnections: number; poolMax: number };
  readonly killedIdle: { nextCall: Settled; newConnection: boolean };
  readonly killedInFlight: { killed: boolean; call: Settled; nextCall: Settled };
  readonly killedStream: { killed: boolean; call: Settled; nextCall: Settled };
  readonly end: { statsAfterDestroy: Db['stats']; serverConnectionsBeforeClose: number; serverConnectionsAfterClose: number };
}

/** The common scenario: CRUD, transactions, streaming, a burst, connections killed under the ORM, and what is left at the end. */
export async function runScenario(db: Db, orm: OrmUnderTest): Promise<ScenarioReport> {
  await orm.createTable();
  const firstId = await orm.insert('a', 1);
  await orm.insert('b', 2);
  await orm.insert('c', 3);
  const updated = await orm.update('b', 20);
  const removed = await orm.remove('c');
  const crud = { rows: await orm.list(), firstId, updated, removed };

  await orm.insertInTransaction('committed');
  const committed = (await orm.list()).some((row) => row.name === 'committed');
  const rollback = await settle(orm.insertInTransaction('rolled-back', new Error('rolled back on purpose')));
  const rolledBack = { error: rollback.message, rowPresent: (await orm.list()).some((row) => row.name === 'rolled-back') };

  const rows = await orm.stream(1000);
  const streamed = { count: rows.length, sum: rows.reduce((a, b) => a + b, 0) };
  // Leaving a stream early: the rest of the result is not waited for, the statement is stopped.
  const early = await orm.stream(1_000_000, 10);
  const afterEarly = await settle(orm.list());
  const statementStopped = await waitFor(async () => !(await serverConnections()).some((row) => row.INFO?.includes('seq_1_to_1000000') === true));
  const streamStoppedEarly = { rows: early.length, nextCall: afterEarly, statementStopped };

  // More callers than connections: they queue, none fails, the server never sees more than pool.max.
  const watch = { most: 0, on: true };
  const watcher = (async () => {
    for (let i = 0; watch.on && i < 500; i++) {
      watch.most = Math.max(watch.most, (await serverConnections()).length);
      await sleep(10);
    }
  })();
  const burstResults = await Promise.all(Array.from({ length: 40 }, () => settle(orm.sleep(0.02))));
  watch.on = false;
  await watcher;
  const burst = {
    ok: burstResults.filter((r) => r.status === 'ok').length,
    failed: burstResults.filter((r) => r.status !== 'ok').length,
    mostServerConnections: watch.most,
    poolMax: POOL_MAX,
  };

  // Killed while idle in the pool: the next call gets another connection.
  const idleId = await orm.connectionId();
  const openBefore = db.stats.open;
  await killConnection(idleId);
  // The server has let go; the pool learns of it from the socket (or the SSH channel).
  await waitFor(() => db.stats.open < openBefore, 2000);
  let nextId: number | undefined;
  const afterIdleKill = await settle(orm.connectionId().then((id) => (nextId = id)));
  const killedIdle = { nextCall: afterIdleKill, newConnection: nextId !== undefined && nextId !== idleId };

  // Killed while a statement runs: that call fails at once, the next one works.
  const inFlight = settle(orm.sleep(5));
  const killedInFlight = { killed: await killRunning('SLEEP(5)'), call: await inFlight, nextCall: await settle(orm.list()) };

  const streaming = settle(orm.slowStream(5));
  const killedStream = { killed: await killRunning('SLEEP(IF(seq = 3'), call: await streaming, nextCall: await settle(orm.list()) };

  await orm.destroy();
  // The last release is being cleaned up still (a reset, a kill): it settles, or something leaked.
  await waitFor(() => db.stats.leased === 0, 3000);
  const statsAfterDestroy = db.stats;
  const serverConnectionsBeforeClose = (await serverConnections()).length;
  await db.close();
  await waitFor(async () => (await serverConnections()).length === 0);
  const serverConnectionsAfterClose = (await serverConnections()).length;
  return {
    crud,
    committed,
    rolledBack,
    streamed,
    streamStoppedEarly,
    burst,
    killedIdle,
    killedInFlight,
    killedStream,
    end: { statsAfterDestroy, serverConnectionsBeforeClose, serverConnectionsAfterClose },
  };
}

/** What the per-connection setup scenario saw (Kysely onCreateConnection, Knex afterCreate). */
export interface SetupReport {
  /** @@time_zone and CONNECTION_ID() of each ORM query, in order. */
  readonly ormQueries: { tz: string; id: number }[];
  /** What plain dbswitch sessions saw between the ORM's queries, on the same connection. */
  readonly sessions: { tz: string; changed: unknown; id: number }[];
  /** How often the setup hook ran. */
  readonly setupRuns: number;
  readonly statsAtEnd: Db['stats'];
}

/** CONNECTION_ID() is a BIGINT: a number, or a string past 2^53. */
type SessionRow = { tz: string; changed: unknown; id: number | string } & RowDataPacket;

/**
 * The per-connection setup question: with a hook that runs `SET time_zone = '+02:00'` on each
 * connection the ORM sees as new, every ORM query sees +02:00, also on a connection that dbswitch
 * reset because another session changed its state; and no session ever sees the ORM's setting.
 * Run with DB_POOL_MAX=1: one physical connection serves everyone.
 */
export async function runSetupScenario(
  db: Db,
  ormQuery: () => Promise<{ tz: string; id: number }>,
  setupRuns: () => number,
  destroy: () => Promise<void>,
): Promise<SetupReport> {
  const look = 'SELECT @@SESSION.time_zone AS tz, @changed AS changed, CONNECTION_ID() AS id';
  const ormQueries = [await ormQuery(), await ormQuery()];
  const sessions: SetupReport['sessions'] = [];
  // Another session changes state on the same connection: a user variable and the time zone.
  await db.withSession(async (s) => {
    const [[row]] = await s.query<SessionRow[]>(look);
    if (row !== undefined) sessions.push({ tz: row.tz, changed: row.changed, id: Number(row.id) });
    await s.query("SET @changed = 1, time_zone = '-05:00'");
  });
  ormQueries.push(await ormQuery());
  await db.withSession(async (s) => {
    const [[row]] = await s.query<SessionRow[]>(look);
    if (row !== undefined) sessions.push({ tz: row.tz, changed: row.changed, id: Number(row.id) });
  });
  ormQueries.push(await ormQuery());
  await destroy();
  await waitFor(() => db.stats.leased === 0, 3000);
  return { ormQueries, sessions, setupRuns: setupRuns(), statsAtEnd: db.stats };
}

/** Prints the report line the test reads. */
export function printReport(report: unknown): void {
  console.log(`REPORT ${JSON.stringify(report)}`);
}
