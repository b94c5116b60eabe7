/**
 * Frames waiting for one channel, first come first served. A FIFO stands in for CSMA/CA: stations on a
 * channel take turns, and a frame waits while another exchange occupies the air. Stored as an array
 * with a moving head so a burst of thousands of queued frames costs O(1) per frame.
 */
export class ChannelQueue<T> {
  #items: T[] = [];
  #head = 0;
  /** The air is busy until this clock time (ms); −∞ when idle. */
  busyUntilMs = -Infinity;
  /** A pump is queued on a microtask. */
  pumpQueued = false;
  /** A timer will pump when the air is free (`busyUntilMs`). */
  waitingForAir = false;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** Removes and returns the oldest item. @throws Error when empty. */
  take(): T {
    if (this.length === 0) throw new Error('channel queue is empty');
    const item = this.#items[this.#head] as T;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Removes and returns everything queued. */
  drain(): T[] {
    const items = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    return items;
  }
}
