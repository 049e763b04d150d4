import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Command } from 'commander';
import { DbSwitchError } from '../../errors.js';
import { printer, type CliIo } from '../cli-io.js';
import { openDb } from '../open-db.js';
import { toolEnvironment } from '../tool-environment.js';

const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** What shells answer for a command they cannot find. */
const COMMAND_NOT_FOUND = 127;

/**
 * `dbswitch exec -- CMD ARGS...`: opens what is needed (a local port through the bastion for
 * ssh, a fresh token for IAM), runs CMD with DATABASE_URL, DB_* and MYSQL_* set, forwards
 * signals, closes everything and exits with CMD's status.
 */
export function registerExecCommand(program: Command, io: CliIo): void {
  program
    .command('exec')
    .description('run a command (a migration tool, the mariadb client) with DATABASE_URL, DB_* and MYSQL_* set; exits with its status')
    .argument('<command...>', 'the command and its arguments, after --')
    .passThroughOptions()
    .action(async (command: string[]) => {
      const [file, ...args] = command;
      if (file === undefined) throw new DbSwitchError('EUSAGE', 'exec needs a command: dbswitch exec -- CMD ARGS...');
      const db = await openDb(io);
      try {
        const endpoint = await db.toolEndpoint({ localPort: db.config.ssh.localPort });
        try {
          io.status.code = await run(file, args, toolEnvironment(io.env, endpoint, db.config), io);
        } finally {
          await endpoint.close();
        }
      } finally {
        await db.close();
      }
    });
}

function run(file: string, args: string[], env: Record<string, string | undefined>, io: CliIo): Promise<number> {
  return new Promise((resolve) => {
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
      // Like a shell: the command's problem, not dbswitch's configuration.
      printer(io.stderr)(err.code === 'ENOENT' ? `dbswitch exec: ${file}: command not found` : `dbswitch exec: cannot run ${file}: ${err.message}`);
      resolve(err.code === 'ENOENT' ? COMMAND_NOT_FOUND : 126);
    });
    child.once('exit', (code, signal) => {
      cleanup();
      resolve(code ?? 128 + (signal === null ? 0 : constants.signals[signal]));
    });
  });
}
