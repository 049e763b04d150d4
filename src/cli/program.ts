import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import type { CliIo } from './cli-io.js';
import { registerCheckCommand } from './commands/check-command.js';
import { registerConfigCommand } from './commands/config-command.js';
import { registerExecCommand } from './commands/exec-command.js';
import { registerTunnelCommand } from './commands/tunnel-command.js';

/**
 * Parses `argv` and runs the command. Resolves to the exit status; command errors are thrown
 * for runCli to print. Loaded by runCli on first use, so importing dbswitch never loads the
 * command-line parser.
 */
export async function runProgram(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    await buildProgram(io).parseAsync(argv, { from: 'user' });
    return io.status.code;
  } catch (err) {
    // commander has printed its own message (usage, --version, --help).
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
}

function buildProgram(io: CliIo): Command {
  const program = new Command('dbswitch')
    .description('One switch (DB_TYPE) for how your app reaches MySQL: basic, aws or ssh.')
    .version(packageVersion(), '-V, --version', 'print the version of dbswitch')
    .exitOverride()
    // everything after `exec --` belongs to the command being run
    .enablePositionalOptions()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });
  registerConfigCommand(program, io, io.status);
  registerCheckCommand(program, io);
  registerTunnelCommand(program, io);
  registerExecCommand(program, io);
  return program;
}

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : 'unknown';
}
