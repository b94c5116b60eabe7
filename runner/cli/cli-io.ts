/** The streams and environment a CLI command works with; injected so commands can be tested in-process. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  /** Resolves when the user asks to stop (SIGINT/SIGTERM). */
  interrupted: Promise<string>;
}

/** The real process's streams, environment and signals. */
export function processIo(): CliIo {
  // `hil … | head` closes stdout early: that ends the output, it is not a crash.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    env: process.env,
    interrupted: new Promise((resolve) => {
      const onSignal = (signal: string): void => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolve(signal);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    }),
  };
}
