import type { Container } from '../container.js';
import { DbSwitchError } from '../errors.js';
import { printer, type CliIo } from './cli-io.js';

/** Where runCli reads and writes; every field defaults to the process's own. */
export interface RunCliOptions {
  /** Changes the container before the Db is made: bind your own DbProvider to ship your own CLI. */
  readonly configure?: (container: Container) => void;
  readonly stdout?: NodeJS.WritableStream;
  readonly stderr?: NodeJS.WritableStream;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
}

/**
 * Runs the `dbswitch` command line (`check`, `config`, `tunnel`, `exec`, `--version`) and
 * returns its exit code; errors are printed as `dbswitch: CODE message`. An application that
 * binds its own provider ships the same CLI with it.
 *
 * @example
 * // bin/mydb.js
 * process.exitCode = await runCli(process.argv.slice(2), {
 *   configure: (c) => c.rebind(DbProvider).toConstantValue(new MyProvider()),
 * });
 */
export async function runCli(argv: readonly string[], options: RunCliOptions = {}): Promise<number> {
  const io: CliIo = {
    stdout: options.stdout ?? process.stdout,
    stderr: options.stderr ?? process.stderr,
    env: options.env ?? process.env,
    cwd: options.cwd ?? process.cwd(),
    configure: options.configure,
    status: { code: 0 },
  };
  try {
    const { runProgram } = await import('./program.js');
    return await runProgram(argv, io);
  } catch (err) {
    const print = printer(io.stderr);
    if (err instanceof DbSwitchError) print(`dbswitch: ${err.code} ${err.message}`);
    else print(`dbswitch: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
