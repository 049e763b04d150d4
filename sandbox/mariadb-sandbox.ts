import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { makeCertificates, type CertificateSet } from './certificates.js';
import { freePort } from './free-port.js';
import { runProgram } from './run-program.js';
import { locateProgram } from './locate-program.js';

/** A private MariaDB server on a random loopback port and a unix socket in its own temp dir. */
export interface MariaDbSandbox {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly socketPath: string;
  readonly dir: string;
  /** The server's TLS material; the certificate is valid for the name `localhost` only. */
  readonly tls: CertificateSet;
  /** A root connection over the unix socket; the caller ends it. */
  admin(): Promise<mysql.Connection>;
  /** Runs statements as root, one by one, on a short-lived connection. */
  sql(...statements: string[]): Promise<unknown[]>;
  /** Creates a database and a user with all rights on it, reachable over TCP and the socket. */
  createUser(user: string, password: string, database: string): Promise<void>;
  /** The running mariadbd's process id (0 while stopped). */
  readonly pid: number;
  /** Stops the server and starts it again on the same port, keeping its data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Kills mariadbd with SIGKILL, as a crash would: no clean shutdown, every connection dropped
   * at once, InnoDB recovers from its log at the next start. Resolves once the process is gone.
   */
  kill(): Promise<void>;
  /**
   * Starts the server again after stop() or kill(), keeping its data, on the same port (unless
   * another process took the port meanwhile: then on a new one, see `port`). Resolves once it
   * accepts connections.
   */
  start(): Promise<void>;
  /** Stops the server and removes its directory. Safe to call twice. */
  destroy(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;

/**
 * Starts a MariaDB of its own, used by the tests, the benchmarks and `dbswitch demo`.
 *
 * @example
 * const db = await startMariaDb();
 * try { await db.createUser('app', 'secret', 'app'); } finally { await db.destroy(); }
 */
export async function startMariaDb(options: { extraArgs?: readonly string[] } = {}): Promise<MariaDbSandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'dbswitch-mariadb-'));
  try {
    const dataDir = join(dir, 'data');
    const socketPath = join(dir, 'mariadb.sock');
    const asRoot = process.getuid?.() === 0;
    const userArgs = asRoot ? [`--user=${userInfo().username}`] : [];
    const tls = await makeCertificates(dir, ['localhost']);
    await runProgram(await locateProgram('mariadb-install-db'), [
      '--no-defaults', `--datadir=${dataDir}`, '--auth-root-authentication-method=normal',
      '--skip-test-db', '--skip-name-resolve', ...userArgs,
    ]);

    let port = await freePort();
    let child: ChildProcess | undefined;
    const serverArgs = (): string[] => [
      '--no-defaults', `--datadir=${dataDir}`, `--socket=${socketPath}`, `--port=${port}`,
      '--bind-address=127.0.0.1', '--skip-name-resolve', `--pid-file=${join(dir, 'mariadbd.pid')}`,
      `--log-error=${join(dir, 'error.log')}`, `--tmpdir=${dir}`, '--skip-log-bin',
      '--innodb-buffer-pool-size=64M', '--innodb-log-file-size=16M', '--innodb-flush-log-at-trx-commit=2',
      '--max-connections=500', '--max-allowed-packet=64M',
      `--ssl-ca=${tls.caPath}`, `--ssl-cert=${tls.certPath}`, `--ssl-key=${tls.keyPath}`,
      ...userArgs, ...(options.extraArgs ?? []),
    ];
    const mariadbd = await locateProgram('mariadbd');

    const start = async (): Promise<void> => {
      for (let attempt = 1; ; attempt++) {
        child = spawn(mariadbd, serverArgs(), { stdio: 'ignore' });
        try {
          await waitUntilReady(child, socketPath, join(dir, 'error.log'));
          return;
        } catch (err) {
          await stopProcess(child);
          const portTaken = /Address already in use|Can't start server: Bind/.test(await readLog(dir));
          if (!portTaken || attempt === 3) throw err;
          port = await freePort();
        }
      }
    };
    const stop = async (): Promise<void> => {
      if (child !== undefined) await stopProcess(child);
      child = undefined;
    };
    const kill = async (): Promise<void> => {
      const running = child;
      child = undefined;
      if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => running.once('exit', () => { resolve(); }));
      running.kill('SIGKILL');
      await exited;
    };
    await start();

    const admin = (): Promise<mysql.Connection> => mysql.createConnection({ socketPath, user: 'root' });
    const sandbox: MariaDbSandbox = {
      host: '127.0.0.1',
      get port() {
        return port;
      },
      get pid() {
        return child?.pid ?? 0;
      },
      socketPath,
      dir,
      tls,
      admin,
      async sql(...statements) {
        const connection = await admin();
        try {
          const results: unknown[] = [];
          for (const statement of statements) results.push((await connection.query(statement))[0]);
          return results;
        } finally {
          await connection.end();
        }
      },
      async createUser(user, password, database) {
        await sandbox.sql(
          `CREATE DATABASE IF NOT EXISTS \`${database}\``,
          `CREATE USER IF NOT EXISTS '${user}'@'%' IDENTIFIED BY '${password}'`,
          `CREATE USER IF NOT EXISTS '${user}'@'localhost' IDENTIFIED BY '${password}'`,
          `GRANT ALL ON \`${database}\`.* TO '${user}'@'%'`,
          `GRANT ALL ON \`${database}\`.* TO '${user}'@'localhost'`,
          // lets the user read every row of information_schema.processlist and KILL in tests
          `GRANT PROCESS, CONNECTION ADMIN ON *.* TO '${user}'@'%'`,
          `GRANT PROCESS, CONNECTION ADMIN ON *.* TO '${user}'@'localhost'`,
        );
      },
      async restart() {
        await stop();
        await start();
      },
      stop,
      kill,
      async start() {
        if (child !== undefined) throw new Error('mariadbd is running already; stop() or kill() it first');
        await start();
      },
      async destroy() {
        await stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
    return sandbox;
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function waitUntilReady(child: ChildProcess, socketPath: string, logPath: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited = child.exitCode !== null;
  child.once('exit', () => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`mariadbd exited during start-up:\n${await tail(logPath)}`);
    try {
      const connection = await mysql.createConnection({ socketPath, user: 'root', connectTimeout: 1000 });
      await connection.end();
      return;
    } catch {
      // not accepting connections yet: the loop is bounded by READY_TIMEOUT_MS
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`mariadbd did not accept connections within ${READY_TIMEOUT_MS} ms:\n${await tail(logPath)}`);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve(); }));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

async function readLog(dir: string): Promise<string> {
  return readFile(join(dir, 'error.log'), 'utf8').catch(() => '');
}

async function tail(path: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '(no log)');
  return text.split('\n').slice(-15).join('\n');
}
