import type { ErrorEvidence, ErrorKind } from '../errors.ts';

/**
 * Code executed on the board raised an uncaught Python exception (a non-empty stderr part of the raw
 * REPL result). This is a *board-side result*, not a rig failure, so it is not a `HilError` and has no
 * entry in the error catalogue: the code is the fixed string `BOARD_EXCEPTION` and the kind is
 * `test-failure`. Thrown only by the `…OrThrow`, `eval` and file helpers of `MicroPythonRepl`; plain
 * `exec` returns the traceback instead.
 */
export class BoardExceptionError extends Error {
  readonly code = 'BOARD_EXCEPTION' as const;
  readonly kind: ErrorKind = 'test-failure';
  /** The full traceback text the board printed (stderr part, `\r\n` normalised to `\n`). */
  readonly traceback: string;
  /** Exception class from the last traceback line, e.g. `OSError`; empty when not recognisable. */
  readonly exceptionType: string;
  /** Text after `Type: ` on the last traceback line, e.g. `[Errno 2] ENOENT`. */
  readonly exceptionMessage: string;
  /** `errno` for `OSError`s printed as `[Errno N] NAME` (MicroPython's form), else undefined. */
  readonly errno: number | undefined;
  /** What the code printed before raising. */
  readonly stdout: string;
  readonly evidence: ErrorEvidence;

  constructor(traceback: string, stdout: string, evidence: ErrorEvidence = {}) {
    const normalised = traceback.replace(/\r\n/g, '\n').trimEnd();
    const lastLine = normalised.split('\n').at(-1) ?? '';
    const match = /^([A-Za-z_][\w.]*)(?::\s?(.*))?$/.exec(lastLine);
    const exceptionType = match?.[1] ?? '';
    const exceptionMessage = match?.[2] ?? (match === null ? lastLine : '');
    super(`board raised ${lastLine || 'an exception'}`);
    this.name = 'BoardExceptionError';
    this.traceback = normalised;
    this.exceptionType = exceptionType;
    this.exceptionMessage = exceptionMessage;
    const errnoMatch = /^\[Errno (\d+)\]/.exec(exceptionMessage) ?? /^(\d+)$/.exec(exceptionMessage);
    this.errno = errnoMatch?.[1] === undefined ? undefined : Number(errnoMatch[1]);
    this.stdout = stdout;
    this.evidence = { ...evidence, consoleTail: normalised };
  }
}

/** True when `err` is a {@link BoardExceptionError}, optionally of the given Python exception class. */
export function isBoardException(err: unknown, exceptionType?: string): err is BoardExceptionError {
  return err instanceof BoardExceptionError && (exceptionType === undefined || err.exceptionType === exceptionType);
}
