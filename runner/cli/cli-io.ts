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
  // A promise a library left dangling (seen once from esptool-js during connect) is a rig error: say
  // so and exit 3, as for any other infrastructure failure, instead of a raw crash dump.
  process.on('unhandledRejection', (reason: unknown) => {
    process.stderr.write(`hil: internal error (a library left a failed promise unhandled): ${reason instanceof Error ? reason.stack ?? reason.message : String(reason)}\n`);
    process.exit(3);
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
