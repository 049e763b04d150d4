import { Command, CommanderError } from 'commander';
import { DbSwitchError } from '../errors.js';
import { printer, type CliIo } from './cli-io.js';
import { registerCheckCommand } from './commands/check-command.js';
import { registerConfigCommand } from './commands/config-command.js';
import { registerDemoCommand } from './commands/demo-command.js';
import { registerExecCommand, type ExitStatus } from './commands/exec-command.js';
import { registerTunnelCommand } from './commands/tunnel-command.js';

/** The `dbswitch` program, with every command registered on the given streams and environment. */
export function buildProgram(io: CliIo, status: ExitStatus = { code: 0 }): Command {
  const program = new Command('dbswitch')
    .description('One switch (DB_TYPE) for how your app reaches MySQL: basic, aws or ssh.')
    .exitOverride()
    // everything after `exec --` belongs to the command being run
    .enablePositionalOptions()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });
  registerConfigCommand(program, io);
  registerCheckCommand(program, io);
  registerDemoCommand(program, io);
  registerTunnelCommand(program, io);
  registerExecCommand(program, io, status);
  return program;
}

/** Runs the CLI and returns its exit code; errors are printed as `dbswitch: CODE message`. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const status: ExitStatus = { code: 0 };
    await buildProgram(io, status).parseAsync(argv, { from: 'user' });
    return status.code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    const print = printer(io.stderr);
    if (err instanceof DbSwitchError) print(`dbswitch: ${err.code} ${err.message}`);
    else print(`dbswitch: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
