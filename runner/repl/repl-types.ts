/** Types shared by the REPL client and its helpers. */

/** Limits of one REPL operation. */
export interface ExecOptions {
  /**
   * Overall deadline of the operation in milliseconds (sending, running and reading the result).
   * Default: the client's `defaultTimeoutMs` (10 000, mpremote's value).
   */
  timeoutMs?: number;
  /** Optional: fail when the board sends nothing for this many milliseconds. */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

/** The result of executing code in the raw REPL. */
export interface ExecResult {
  /** What the code printed (UTF-8, lenient; `\r\n` line ends as the board sent them). */
  stdout: string;
  /** The traceback of an uncaught exception; empty on success. */
  stderr: string;
  /** True when the code ended with `SystemExit` and the board soft-reset afterwards (§1.5). */
  softRebooted: boolean;
  /** Output of `boot.py` during that soft reset; empty otherwise. */
  bootOutput: string;
  /** How the code was sent. */
  transfer: 'raw-paste' | 'classic';
  /** Wall time of the whole operation in milliseconds, measured on the client's clock. */
  durationMs: number;
}

/**
 * Where the client believes the board is. `unknown` after connecting or after an operation failed
 * midway (the next operation resynchronises); `gone` once the link vanished.
 */
export type ReplState = 'unknown' | 'raw' | 'friendly' | 'gone';

/** One entry of {@link BoardFiles.listDir}. */
export interface DirEntry {
  name: string;
  kind: 'file' | 'dir' | 'other';
  /** Size in bytes when the board reports it (files on FAT/littlefs do). */
  sizeBytes?: number;
}

/** Something that executes Python on a board and throws `BoardExceptionError` on a traceback. */
export interface PythonExecutor {
  execOrThrow(code: string, options?: ExecOptions): Promise<ExecResult>;
}
