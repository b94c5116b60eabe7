/**
 * A deadline around one WebUSB call. WebUSB transfers have no timeout of their own (a bulk IN waits
 * until the device sends) and cannot be cancelled, so the caller races them against its clock and an
 * optional AbortSignal; the transfer itself goes on, which is the caller's to account for
 * (abandoned-in-transfers.ts).
 */
import { HilError } from '../errors.ts';
import type { Clock } from '../repl/clock.ts';

export interface UsbDeadline {
  clock: Clock;
  /** How long to wait, ms. */
  timeoutMs: number;
  /** Cancels the wait (the error is `ABORTED`). */
  signal?: AbortSignal | undefined;
  /** The error for a missed deadline: it names the device and the request or endpoint. */
  timeoutError: () => Error;
  /** Evidence for the `ABORTED` error. */
  evidence?: Record<string, unknown>;
}

/**
 * Resolves or rejects as `work` does, unless the deadline passes first (rejects with
 * `timeoutError()`) or `signal` fires (HilError `ABORTED`). A rejection of `work` after the race is
 * over is swallowed, so a transfer given up on never becomes an unhandled rejection.
 */
export function withUsbDeadline<T>(work: Promise<T>, deadline: UsbDeadline): Promise<T> {
  const { clock, timeoutMs, signal } = deadline;
  work.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      cancelTimer();
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const onAbort = (): void => {
      if (settle()) reject(new HilError('ABORTED', 'the USB operation was cancelled', { ...deadline.evidence }, { cause: signal?.reason }));
    };
    const cancelTimer = clock.setTimer(() => {
      if (settle()) reject(deadline.timeoutError());
    }, timeoutMs);
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => { if (settle()) resolve(value); },
      (err: unknown) => { if (settle()) reject(err); },
    );
  });
}
