/**
 * Timers on a {@link BoardClock} that can all be cancelled at once, so closing a medium leaves nothing
 * behind. `at` runs a callback that is already due synchronously: the medium calls it only from its own
 * event handlers (never from inside a board's `send()`), where running now keeps frames in order.
 * Node may fire a timer up to a millisecond before its delay has passed on `performance.now()`; such a
 * timer waits out the rest, so a frame never arrives before its modelled time.
 */
import type { BoardClock, TimerHandle } from '../board/board-clock.ts';

export class TrackedTimers {
  readonly #pending = new Set<TimerHandle>();

  constructor(private readonly clock: BoardClock) {}

  /** Runs `callback` when the clock reaches `dueMs` — now, if it already has. */
  at(dueMs: number, callback: () => void): void {
    const delayMs = dueMs - this.clock.now();
    if (delayMs <= 0) {
      callback();
      return;
    }
    const handle = this.clock.setTimeout(() => {
      this.#pending.delete(handle);
      this.at(dueMs, callback);
    }, delayMs);
    this.#pending.add(handle);
  }

  /** Cancels every timer not yet fired. */
  cancelAll(): void {
    for (const handle of this.#pending) this.clock.clearTimeout(handle);
    this.#pending.clear();
  }
}
