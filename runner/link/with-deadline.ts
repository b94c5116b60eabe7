import { HilError } from '../errors.ts';

/**
 * Races `work` against a deadline and an optional AbortSignal. On timeout it rejects with the error
 * `onTimeout()` builds; on abort with `ABORTED`. In both cases `cleanup` runs so the caller can tear
 * down whatever `work` was waiting on (the promise itself cannot be cancelled).
 *
 * @param timeoutMs milliseconds; a value ≤ 0 times out on the next timer tick.
 */
export function withDeadline<T>(
  work: Promise<T>,
  timeoutMs: number,
  onTimeout: () => Error,
  signal?: AbortSignal,
  cleanup?: () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const fail = (err: Error): void => {
      if (!finish()) return;
      cleanup?.();
      reject(err);
    };
    const onAbort = (): void => fail(abortedError(signal));
    const timer = setTimeout(() => fail(onTimeout()), Math.max(0, timeoutMs));
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        if (finish()) resolve(value);
      },
      (err: unknown) => {
        if (finish()) reject(err);
      },
    );
  });
}

/** The `ABORTED` error for a signal, keeping its reason as the cause. */
export function abortedError(signal: AbortSignal | undefined): HilError {
  return new HilError('ABORTED', 'the operation was cancelled', {}, { cause: signal?.reason });
}
