import type { Container } from '../container.js';

/** What a command may touch of its process: streams, environment, working folder. Tests pass their own. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** The application's changes to the container (its own DbProvider), as given to runCli. */
  readonly configure: ((container: Container) => void) | undefined;
  /** The exit status runCli returns; commands set it. */
  readonly status: { code: number };
}

/** Writes lines to a stream. */
export function printer(stream: NodeJS.WritableStream): (...lines: string[]) => void {
  return (...lines) => {
    stream.write(`${lines.join('\n')}\n`);
  };
}
