/**
 * Time source and timers of a simulated board, injectable so tests can drive time. The default
 * looks up the global timer functions at call time, so vitest's fake timers apply to it.
 */

/** Opaque timer handle. */
export type TimerHandle = unknown;

/** A clock with one-shot timers. */
export interface BoardClock {
  /** Milliseconds on a monotonic-enough scale (only differences are used). */
  now(): number;
  /** Calls `callback` once after `delayMs`. */
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  /** Cancels a timer; ignores handles that already fired. */
  clearTimeout(handle: TimerHandle): void;
}

/** The process clock (`Date.now`, global `setTimeout`). */
export const systemClock: BoardClock = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => globalThis.setTimeout(callback, delayMs),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};
