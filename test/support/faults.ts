import { afterAll, beforeAll } from 'vitest';
import { createDb } from '../../src/db/create-db.js';
import type { Db } from '../../src/db/db.js';
import { isDbSwitchError } from '../../src/errors.js';
import { startMariaDb, type MariaDbSandbox } from '../../sandbox/mariadb-sandbox.js';
import type { SshSandbox } from '../../sandbox/ssh-sandbox.js';
import { knownHostsFile } from './bastion.js';
import { admin, emptyDir, eventually, sandbox } from './test-db.js';

/** The providers the fault suite runs against (aws needs root PAM set-up; its transport is basic's). */
export const PROVIDERS = ['basic', 'ssh'] as const;
export type Provider = (typeof PROVIDERS)[number];

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A database user of one test file, so the processlist shows this file's connections only. */
export interface FaultLogin {
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

/** Runs one statement as root and returns its rows (a new connection each time: the server may have been restarted). */
export type AdminQuery = <T = unknown>(sql: string, values?: unknown[]) => Promise<T>;

/** A MariaDB server: the shared one, or one a test file starts and kills. */
export interface FaultServer {
  readonly port: number;
  readonly admin: AdminQuery;
}

/** The shared MariaDB of the run (started by globalSetup). */
export const sharedServer: FaultServer = {
  get port() {
    return sandbox().port;
  },
  admin,
};

/**
 * A MariaDB of this file's own, for faults that kill or restart the server, started before the
 * file's tests and destroyed after them. Durable on commit (innodb_flush_log_at_trx_commit=1,
 * the server's default; the shared sandbox trades it for speed), so a lost acknowledged commit
 * after kill -9 is the client's fault, never the server's configuration.
 */
export function useOwnMariaDb(): FaultServer & { readonly current: MariaDbSandbox } {
  const state: { current?: MariaDbSandbox } = {};
  beforeAll(async () => {
    state.current = await startMariaDb({ extraArgs: ['--innodb-flush-log-at-trx-commit=1'] });
  });
  afterAll(async () => {
    await state.current?.destroy();
  });
  const current = (): MariaDbSandbox => {
    if (state.current === undefined) throw new Error('the MariaDB of this file is not started yet');
    return state.current;
  };
  return {
    get current() {
      return current();
    },
    get port() {
      return current().port;
    },
    async admin<T>(sql: string, values?: unknown[]): Promise<T> {
      const connection = await current().admin();
      try {
        return (await connection.query(sql, values))[0] as T;
      } finally {
        await connection.end();
      }
    },
  };
}

/** Creates user f_<name> and database app_f_<name> on `server` before the file's tests; drops both after. */
export function useFaultLogin(name: string, server: () => FaultServer): FaultLogin {
  const login = { user: `f_${name}`, password: `${name}-password-not-secret`, database: `app_f_${name}` };
  beforeAll(async () => {
    const { admin: query } = server();
    await query(`CREATE DATABASE IF NOT EXISTS \`${login.database}\``);
    for (const host of ['%', 'localhost']) {
      await query(`CREATE USER IF NOT EXISTS '${login.user}'@'${host}' IDENTIFIED BY '${login.password}'`);
      await query(`GRANT ALL ON \`${login.database}\`.* TO '${login.user}'@'${host}'`);
    }
  });
  afterAll(async () => {
    const { admin: query } = server();
    await query(`DROP USER IF EXISTS '${login.user}'@'%', '${login.user}'@'localhost'`).catch(() => undefined);
    await query(`DROP DATABASE IF EXISTS \`${login.database}\``).catch(() => undefined);
  });
  return login;
}

/** The dbswitch env for `provider` to `server` as `login` (through `bastion` for ssh). */
export function faultEnv(
  provider: Provider,
  server: FaultServer,
  login: FaultLogin,
  bastion: { readonly current: SshSandbox; readonly dir: string },
  overrides: Record<string, string> = {},
): Record<string, string> {
  const base = {
    DB_TYPE: 'basic',
    DB_HOST: '127.0.0.1',
    DB_PORT: String(server.port),
    DB_USER: login.user,
    DB_PASSWORD: login.password,
    DB_NAME: login.database,
    DB_LOG_LEVEL: 'silent',
  };
  if (provider === 'basic') return { ...base, ...overrides };
  const ssh = bastion.current;
  return {
    ...base,
    DB_TYPE: 'ssh',
    SSH_HOST: ssh.host,
    SSH_PORT: String(ssh.port),
    SSH_USER: ssh.user,
    SSH_PRIVATE_KEY_PATH: ssh.clientKeyPath,
    SSH_KNOWN_HOSTS: knownHostsFile(bastion.dir, ssh.knownHostsLine),
    ...overrides,
  };
}

/** Opens Dbs and closes whatever a test left open (in afterEach of the caller's choosing). */
export class DbKeeper {
  readonly #open = new Set<Db>();

  async open(env: Record<string, string>): Promise<Db> {
    const db = await createDb({ env, cwd: emptyDir });
    this.#open.add(db);
    return db;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#open].map((db) => db.close()));
    this.#open.clear();
  }
}

/** How one call ended, as its caller saw it. */
export interface Outcome {
  /** 'ok', a DbSwitchError's code, `raw:<code or name>` for any other error, or 'hang' when it had not settled in time. */
  readonly code: string;
  readonly dbSwitchError: boolean;
  readonly startedAt: number;
  readonly settledAt: number;
  readonly error: unknown;
}

/** How long {@link outcome} waits before it calls a call hung. */
export const HANG_MS = 10_000;

/**
 * Awaits `work` and says how it ended; never rejects. A call that has not settled after
 * `hangMs` is reported as 'hang' (it is left running), so a regression fails with a clear code
 * instead of the test's timeout.
 */
export async function outcome(work: Promise<unknown>, hangMs = HANG_MS): Promise<Outcome> {
  const startedAt = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hang'>((resolve) => {
    timer = setTimeout(resolve, hangMs, 'hang');
  });
  try {
    const done = work.then(() => 'ok' as const);
    // After a 'hang', a late rejection must not surface as an unhandled one.
    done.catch(() => undefined);
    const settled = await Promise.race([done, hung]);
    return { code: settled, dbSwitchError: false, startedAt, settledAt: Date.now(), error: undefined };
  } catch (error) {
    const code = isDbSwitchError(error) ? error.code : `raw:${rawCode(error)}`;
    return { code, dbSwitchError: isDbSwitchError(error), startedAt, settledAt: Date.now(), error };
  } finally {
    clearTimeout(timer);
  }
}

function rawCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name : typeof error;
}

/** Calls counted by how they ended, and the figures of the README's Reliability table. */
export class Tally {
  readonly counts = new Map<string, number>();
  /** Acknowledged commits missing from the table afterwards. */
  lost = 0;
  /** Calls whose commit outcome the caller cannot know (the failure came during COMMIT). */
  ambiguous = 0;
  /** ms from the fault's end (server or bastion back) to the first successful call; undefined when not measured. */
  recoveryMs: number | undefined;
  /** The longest time a call took to settle. */
  slowestMs = 0;

  record(result: Outcome): void {
    this.counts.set(result.code, (this.counts.get(result.code) ?? 0) + 1);
    this.slowestMs = Math.max(this.slowestMs, result.settledAt - result.startedAt);
  }

  count(code: string): number {
    return this.counts.get(code) ?? 0;
  }

  /** Codes that are not 'ok' and not DbSwitchError codes (a raw driver error reached the caller). */
  rawCodes(): string[] {
    return [...this.counts.keys()].filter((code) => code.startsWith('raw:'));
  }

  /** Prints `[fault] <label>: ok=…, <CODE>=…, lost=…, ambiguous=…, recovery=… ms, slowest=… ms[, extra]`. */
  print(label: string, extra = ''): void {
    const failures = [...this.counts.entries()]
      .filter(([code]) => code !== 'ok')
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([code, n]) => `${code}=${n}`);
    const recovery = this.recoveryMs === undefined ? 'n/a' : `${this.recoveryMs} ms`;
    console.log(
      `[fault] ${label}: ok=${this.count('ok')}, ${failures.length === 0 ? 'failed=0' : failures.join(', ')}, lost=${this.lost}, ambiguous=${this.ambiguous}, recovery=${recovery}, slowest=${this.slowestMs} ms${extra === '' ? '' : `, ${extra}`}`,
    );
  }
}

/** One row of information_schema.PROCESSLIST. */
export interface ProcessRow {
  readonly ID: number;
  readonly COMMAND: string;
  readonly INFO: string | null;
  readonly TIME_MS: number;
}

/** The server's connections of `user`. */
export function processlist(server: FaultServer, user: string): Promise<ProcessRow[]> {
  return server.admin<ProcessRow[]>('SELECT ID, COMMAND, INFO, TIME_MS FROM information_schema.PROCESSLIST WHERE USER = ? ORDER BY ID', [user]);
}

/** The statements `user` has running on the server now (connections not idle). */
export async function runningStatements(server: FaultServer, user: string): Promise<ProcessRow[]> {
  return (await processlist(server, user)).filter((row) => row.COMMAND !== 'Sleep');
}

/** Waits until `count` statements starting with `prefix` run for `user`; returns their connection ids. */
export async function waitForStatements(server: FaultServer, user: string, prefix: string, count = 1, timeoutMs = 5000): Promise<number[]> {
  let ids: number[] = [];
  const seen = await eventually(async () => {
    ids = (await runningStatements(server, user)).filter((row) => row.INFO?.startsWith(prefix) === true).map((row) => row.ID);
    return ids.length >= count;
  }, timeoutMs);
  if (!seen) throw new Error(`the server never ran ${count} × "${prefix}" for ${user}; it runs ${ids.length}`);
  return ids;
}

/**
 * Samples how many connections `user` holds on the server every 20 ms until stop() (a bounded
 * loop: it also ends by itself after `limitMs`), and reports the most seen.
 */
export function sampleConnections(server: FaultServer, user: string, limitMs = 30_000): { stop: () => Promise<number> } {
  const state = { most: 0, running: true };
  const deadline = Date.now() + limitMs;
  const loop = (async (): Promise<void> => {
    while (state.running && Date.now() < deadline) {
      state.most = Math.max(state.most, (await processlist(server, user)).length);
      await sleep(20);
    }
  })();
  return {
    async stop() {
      state.running = false;
      await loop;
      return state.most;
    },
  };
}

/** Waits (bounded) until the bastion holds no half-closed socket; returns how many it still holds. */
export async function closeWaitAfter(bastion: SshSandbox, timeoutMs = 1000): Promise<number> {
  await eventually(() => Promise.resolve(bastion.closeWaitSockets() === 0), timeoutMs);
  return bastion.closeWaitSockets();
}

/** Sockets the bastion holds to the database at `port` (one per open forwarded channel), by state. */
export function bastionChannels(bastion: SshSandbox, port: number): { established: number; closeWait: number; total: number } {
  const toDb = bastion.sockets().filter((socket) => socket.remotePort === port);
  return {
    established: toDb.filter((socket) => socket.state === 'ESTABLISHED').length,
    closeWait: toDb.filter((socket) => socket.state === 'CLOSE_WAIT').length,
    total: toDb.length,
  };
}

/**
 * Calls `attempt` every `pauseMs` until it succeeds (bounded by `timeoutMs`); returns the ms from
 * `since` to the first success, and what the failed attempts were.
 */
export async function recover(attempt: () => Promise<unknown>, since: number, tally: Tally, timeoutMs = 10_000, pauseMs = 25): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const result = await outcome(attempt());
    tally.record(result);
    if (result.code === 'ok') return result.settledAt - since;
    await sleep(pauseMs);
  }
  throw new Error(`no successful call within ${timeoutMs} ms of the fault's end; calls so far: ${JSON.stringify([...tally.counts])}`);
}

/**
 * Runs SELECT SLEEP(5) with a 300 ms timeout on `db` and expects ETIMEOUT, the release (which
 * waits for the kill) within 1 s, and the statement gone from the server within 1 s: cancelling
 * works (again), e.g. on a control connection reopened after a fault took the old one down.
 */
export async function cancelStillKills(db: Db, server: FaultServer, user: string): Promise<Outcome> {
  let heardAt = 0;
  const result = await outcome(
    db.withSession((s) =>
      s.query({ sql: 'SELECT SLEEP(5)', timeout: 300 }).finally(() => {
        heardAt = Date.now();
      }),
    ),
  );
  const gone = await eventually(async () => (await runningStatements(server, user)).length === 0, 1000);
  // The release waits for the kill: a stalled cancel (a dead control connection) shows here.
  const releaseMs = result.settledAt - heardAt;
  if (result.code !== 'ETIMEOUT' || !gone || releaseMs > 1000) {
    throw new Error(`a timed-out statement was ${result.code}, ${gone ? 'gone' : 'still running'} on the server within 1 s, its release took ${releaseMs} ms`);
  }
  return result;
}
