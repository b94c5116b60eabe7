/**
 * The time source of the REPL client. Injected so tests can drive deadlines without waiting and so
 * durations are measured in one place (HOUSE-STYLE habit 7).
 */
export interface Clock {
  /** Milliseconds since an arbitrary, monotonic-enough epoch. */
  now(): number;
  /** Calls `callback` once after `delayMs` milliseconds. Returns a function that cancels it. */
  setTimer(callback: () => void, delayMs: number): () => void;
}

/** The process clock: `Date.now()` and the global timers (so vitest fake timers also drive it). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(callback, delayMs) {
    const handle = setTimeout(callback, Math.max(0, delayMs));
    return () => clearTimeout(handle);
  },
};

/**
 * Resolves after `delayMs` on `clock`; rejects with the signal's reason when `signal` aborts first.
 * The caller turns the rejection into its own error.
 */
export function sleep(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      cancel();
      reject(signal?.reason);
    };
    const cancel = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
