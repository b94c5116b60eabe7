/**
 * Bytes crossing a simulated wire: they wait in a queue that a timer drains at the wire rate, a small
 * batch per tick, with credit carried between ticks so the long-run rate is exact. Used for both
 * directions of a board's serial port. Nothing busy-waits, and an empty queue runs no timer.
 * A rate of `Infinity` bytes/ms means unpaced: bytes are delivered in order on the next microtask.
 */
import type { BoardClock, TimerHandle } from './board-clock.ts';

/** Longest pause between two pacing ticks; bounds the batch size and the added latency. */
const MAX_TICK_MS = 10;

export interface PacedByteQueueOptions {
  clock: BoardClock;
  /** Current wire rate in bytes per millisecond (read at every tick, so baud changes apply at once). */
  bytesPerMs(): number;
  /** Receives each batch, in order. */
  deliver(chunk: Uint8Array): void;
  /** Bytes beyond this are dropped (a runaway writer; a real driver would block it). */
  maxQueuedBytes: number;
}

export class PacedByteQueue {
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #timer: TimerHandle | null = null;
  #microtaskPending = false;
  #pacing = false;
  #lastTickMs = 0;
  #creditBytes = 0;
  #drainWaiters: (() => void)[] = [];

  constructor(private readonly options: PacedByteQueueOptions) {}

  /** Bytes waiting to cross the wire. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  enqueue(data: Uint8Array): void {
    const room = this.options.maxQueuedBytes - this.#queuedBytes;
    if (room <= 0 || data.length === 0) return;
    const accepted = data.length > room ? data.subarray(0, room) : data;
    this.#queue.push(accepted.slice());
    this.#queuedBytes += accepted.length;
    this.#schedule();
  }

  /** Drops everything queued (purge, reset, power off) and stops the timer. */
  clear(): void {
    if (this.#timer !== null) {
      this.options.clock.clearTimeout(this.#timer);
      this.#timer = null;
    }
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#afterDelivery();
  }

  /** Resolves once every queued byte has been delivered (or dropped). */
  whenDrained(): Promise<void> {
    if (this.#queuedBytes === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #schedule(): void {
    if (this.#queuedBytes === 0 || this.#timer !== null || this.#microtaskPending) return;
    const rate = this.options.bytesPerMs();
    if (rate === Infinity) {
      this.#microtaskPending = true;
      queueMicrotask(() => {
        this.#microtaskPending = false;
        if (this.#queuedBytes > 0) this.#deliver(this.#queuedBytes);
        this.#afterDelivery();
      });
      return;
    }
    if (!this.#pacing) {
      this.#pacing = true;
      this.#lastTickMs = this.options.clock.now();
      this.#creditBytes = 0;
    }
    // Until the queue's last byte is due, at most MAX_TICK_MS; a fraction of a millisecond is fine
    // (the clock waits those out precisely), and a tick that comes early delivers what is due.
    const needMs = (this.#queuedBytes - this.#creditBytes) / rate;
    const delayMs = Math.min(MAX_TICK_MS, Math.max(0, needMs));
    this.#timer = this.options.clock.setTimeout(() => this.#tick(), delayMs);
  }

  #tick(): void {
    this.#timer = null;
    const now = this.options.clock.now();
    this.#creditBytes += Math.max(0, now - this.#lastTickMs) * this.options.bytesPerMs();
    this.#lastTickMs = now;
    const count = Math.min(this.#queuedBytes, Math.floor(this.#creditBytes));
    if (count > 0) {
      this.#creditBytes -= count;
      this.#deliver(count);
    }
    this.#afterDelivery();
  }

  #afterDelivery(): void {
    if (this.#queuedBytes > 0) {
      this.#schedule();
      return;
    }
    this.#pacing = false;
    this.#creditBytes = 0;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #deliver(count: number): void {
    const chunk = new Uint8Array(count);
    let filled = 0;
    while (filled < count) {
      const head = this.#queue[0];
      if (head === undefined) break;
      const take = Math.min(head.length, count - filled);
      chunk.set(head.subarray(0, take), filled);
      filled += take;
      if (take === head.length) this.#queue.shift();
      else this.#queue[0] = head.subarray(take);
    }
    this.#queuedBytes -= filled;
    this.options.deliver(chunk.subarray(0, filled));
  }
}
