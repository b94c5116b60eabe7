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

/**
 * A sub-millisecond wait: re-checked on each turn of the event loop until due, never synchronously.
 * A clock that does not move between turns (test fake timers) falls back to a 1 ms timer.
 */
class ShortWait {
  cancelled = false;
  #timer: ReturnType<typeof globalThis.setTimeout> | null = null;
  #lastMs: number;
  constructor(
    readonly dueMs: number,
    readonly callback: () => void,
  ) {
    this.#lastMs = performance.now();
    globalThis.setImmediate(() => this.#poll());
  }
  cancel(): void {
    this.cancelled = true;
    if (this.#timer !== null) globalThis.clearTimeout(this.#timer);
  }
  #poll(): void {
    if (this.cancelled) return;
    const now = performance.now();
    if (now >= this.dueMs) this.callback();
    else if (now === this.#lastMs) this.#timer = globalThis.setTimeout(() => this.cancelled || this.callback(), 1);
    else {
      this.#lastMs = now;
      globalThis.setImmediate(() => this.#poll());
    }
  }
}

/**
 * The process clock (`performance.now`, global timers). Node rounds timer delays down to whole
 * milliseconds and never fires sooner than 1 ms, so a delay under 1 ms (the last bytes of a burst on
 * a fast wire) is waited out on the event loop instead: a 12-byte reply at 921600 baud takes 0.13 ms
 * on the wire and must not arrive a millisecond late.
 */
export const systemClock: BoardClock = {
  now: () => performance.now(),
  setTimeout: (callback, delayMs) =>
    delayMs >= 1 ? globalThis.setTimeout(callback, delayMs) : new ShortWait(performance.now() + Math.max(0, delayMs), callback),
  clearTimeout: (handle) => {
    if (handle instanceof ShortWait) handle.cancel();
    else globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>);
  },
};
