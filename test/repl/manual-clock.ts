import type { Clock } from '../../runner/repl/clock.ts';

/** A clock that moves only when the test says so. */
export class ManualClock implements Clock {
  private current = 1_000_000;
  private timers: Array<{ at: number; callback: () => void; id: number }> = [];
  private nextId = 0;

  now(): number {
    return this.current;
  }

  setTimer(callback: () => void, delayMs: number): () => void {
    const id = this.nextId++;
    this.timers.push({ at: this.current + Math.max(0, delayMs), callback, id });
    return () => {
      this.timers = this.timers.filter((timer) => timer.id !== id);
    };
  }

  /** Number of timers waiting. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const due = this.timers.filter((timer) => timer.at <= target).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((timer) => timer.id !== due.id);
      this.current = due.at;
      due.callback();
    }
    this.current = target;
  }
}

/** Lets queued macrotasks (the fake board's setImmediate pumps) run. */
export async function flushTasks(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
