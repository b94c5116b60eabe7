/**
 * Timers on a {@link BoardClock} that run in order of due time and can all be cancelled at once, so
 * closing a medium leaves nothing behind. One clock timer is armed for the earliest entry; when it
 * fires, every entry that is due runs in (due time, insertion) order — so a timer the event loop fires
 * late can never let a later frame overtake an earlier one (Node's timers and the clock's
 * sub-millisecond waits are separate mechanisms, and a busy loop delays them differently).
 * `at` runs entries that are already due synchronously: the medium calls it only from its own event
 * handlers (never from inside a board's `send()`), where running now keeps frames in order.
 * Node may fire a timer up to a millisecond before its delay has passed on `performance.now()`; the
 * entry then waits out the rest, so a frame never arrives before its modelled time.
 */
import type { BoardClock, TimerHandle } from '../board/board-clock.ts';

interface Entry {
  dueMs: number;
  seq: number;
  callback: () => void;
}

export class TrackedTimers {
  /** Pending entries, sorted by (dueMs, seq). */
  #entries: Entry[] = [];
  #seq = 0;
  #timer: TimerHandle | null = null;
  #armedForMs = Infinity;
  #flushing = false;

  constructor(private readonly clock: BoardClock) {}

  /** Runs `callback` when the clock reaches `dueMs` — now, if it already has (after anything due earlier). */
  at(dueMs: number, callback: () => void): void {
    const entry: Entry = { dueMs, seq: this.#seq++, callback };
    let index = this.#entries.length;
    while (index > 0 && this.#entries[index - 1]!.dueMs > dueMs) index--;
    this.#entries.splice(index, 0, entry);
    if (dueMs <= this.clock.now()) this.#flush();
    else this.#arm();
  }

  /** Cancels every timer not yet fired. */
  cancelAll(): void {
    if (this.#timer !== null) this.clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#armedForMs = Infinity;
    this.#entries = [];
  }

  /** Runs every due entry in order (entries they add that are due run in the same pass). */
  #flush(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (this.#entries.length > 0 && this.#entries[0]!.dueMs <= this.clock.now()) {
        this.#entries.shift()!.callback();
      }
    } finally {
      this.#flushing = false;
    }
    this.#arm();
  }

  /** Keeps one clock timer armed for the earliest pending entry. */
  #arm(): void {
    const next = this.#entries[0]?.dueMs ?? Infinity;
    if (next === this.#armedForMs) return;
    if (this.#timer !== null) this.clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#armedForMs = next;
    if (next === Infinity) return;
    this.#timer = this.clock.setTimeout(() => {
      this.#timer = null;
      this.#armedForMs = Infinity;
      this.#flush();
    }, Math.max(0, next - this.clock.now()));
  }
}
