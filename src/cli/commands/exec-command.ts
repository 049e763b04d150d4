import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Command } from 'commander';
import { DbSwitchError } from '../../errors.js';
import { LocalForwarder } from '../../providers/ssh/local-forwarder.js';
import type { CliIo } from '../cli-io.js';
import { databaseUrl } from '../database-url.js';
import { openProvider } from '../open-provider.js';

/** Where `exec` asks runCli to put the command's exit status. */
export interface ExitStatus {
  code: number;
}

const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * `dbswitch exec -- CMD ARGS...`: opens what is needed (a tunnel for ssh), runs CMD with
 * DATABASE_URL, DB_HOST, DB_PORT, DB_USER, DB_PASSWORD, MYSQL_PWD and DB_NAME set, forwards
 * signals, closes everything and exits with CMD's status.
 */
export function registerExecCommand(program: Command, io: CliIo, status: ExitStatus): void {
  program
    .command('exec')
    .description('run a command (a migration tool, the mariadb client) with DATABASE_URL and DB_* set; exits with its status')
    .argument('<command...>', 'the command and its arguments, after --')
    .passThroughOptions()
    .action(async (command: string[]) => {
      const [file, ...args] = command;
      if (file === undefined) throw new DbSwitchError('ECONFIG', 'exec needs a command: dbswitch exec -- CMD ARGS...');
      const { config, provider, pooled, ssh } = openProvider(io);
      const forwarder = ssh === undefined ? undefined : new LocalForwarder(ssh.tunnel, config.db);
      try {
        // The settings of the moment: secret filled in, and a fresh token for IAM.
        const login = pooled === undefined ? { ...config.db, user: config.db.user ?? '' } : await pooled.clientSettings();
        let host = login.host;
        let port = login.port;
        if (forwarder !== undefined && ssh !== undefined) {
          await ssh.tunnel.open();
          port = await forwarder.listen(config.ssh.localPort);
          host = '127.0.0.1';
        }
        const socketPath = forwarder === undefined ? config.db.socketPath : undefined;
        const env: Record<string, string | undefined> = {
          ...io.env,
          // The child reaches the database directly (through the local port for ssh).
          DB_TYPE: 'basic',
          DB_AUTH: undefined,
          DB_HOST: host,
          DB_PORT: String(port),
          DB_USER: login.user,
          DB_PASSWORD: login.password,
          MYSQL_PWD: login.password,
          DB_NAME: login.database,
          DB_SOCKET: socketPath,
          DATABASE_URL: databaseUrl({ user: login.user, password: login.password, host, port, database: login.database, socketPath }),
        };
        status.code = await run(file, args, env, io);
      } finally {
        await forwarder?.close();
        await provider.close(0);
      }
    });
}

function run(file: string, args: string[], env: Record<string, string | undefined>, io: CliIo): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, cwd: io.cwd, stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
    const cleanup = (): void => {
      for (const signal of FORWARDED_SIGNALS) process.removeListener(signal, forward);
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      cleanup();
      reject(new DbSwitchError('ECONFIG', err.code === 'ENOENT' ? `command not found: ${file}` : `cannot run ${file}: ${err.message}`, { cause: err }));
    });
    child.once('exit', (code, signal) => {
      cleanup();
      resolve(code ?? 128 + (signal === null ? 0 : constants.signals[signal]));
    });
  });
}
