/** What a command may touch of its process: streams, environment, working folder. Tests pass their own. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** Writes lines to a stream. */
export function printer(stream: NodeJS.WritableStream): (...lines: string[]) => void {
  return (...lines) => {
    stream.write(`${lines.join('\n')}\n`);
  };
}
