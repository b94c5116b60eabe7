/**
 * The one place a pino logger is created. Logs go to stderr (results go to stdout); serial traffic is
 * logged at `trace`, state transitions at `info`. Components receive a child logger per board/job.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/** Creates the process logger. `level` defaults to `warn` so a CLI run shows only its own output. */
export function createLogger(level: string = 'warn'): Logger {
  return pino({ level, base: undefined }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that discards everything (tests, library use without logging). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
