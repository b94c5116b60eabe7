/**
 * Delivers received bytes to a link's `onData` listeners, and keeps what arrives while nobody listens
 * (e.g. between "link opened" and the caller's first `onData`), the way a tty's kernel buffer would.
 * Shared by the link adapters so both behave the same.
 */
export class DataFanout {
  readonly #listeners = new Set<(chunk: Uint8Array) => void>();
  readonly #maxPendingBytes: number;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #flushScheduled = false;

  /** `maxPendingBytes`: bytes kept while nobody listens (default 64 KiB); the oldest are dropped beyond. */
  constructor(maxPendingBytes = 64 * 1024) {
    this.#maxPendingBytes = maxPendingBytes;
  }

  /** Hands a chunk to every listener, or keeps it until the first listener subscribes. */
  emit(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.#listeners.size === 0 || this.#pending.length > 0) {
      this.#keep(chunk);
      if (this.#listeners.size > 0) this.#scheduleFlush();
      return;
    }
    this.#deliver(chunk);
  }

  /**
   * Adds a listener. Bytes kept while nobody listened are delivered to it on a later microtask (never
   * synchronously inside this call). Returns the unsubscribe function.
   */
  subscribe(listener: (chunk: Uint8Array) => void): () => void {
    this.#listeners.add(listener);
    if (this.#pending.length > 0) this.#scheduleFlush();
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Drops bytes kept but not yet delivered. */
  clear(): void {
    this.#pending = [];
    this.#pendingBytes = 0;
  }

  /** Forgets every listener and kept byte (link closed). */
  dispose(): void {
    this.#listeners.clear();
    this.clear();
  }

  #keep(chunk: Uint8Array): void {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    while (this.#pendingBytes > this.#maxPendingBytes && this.#pending.length > 0) {
      const dropped = this.#pending.shift() as Uint8Array;
      this.#pendingBytes -= dropped.length;
    }
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      if (this.#listeners.size === 0) return;
      const pending = this.#pending;
      this.clear();
      for (const chunk of pending) this.#deliver(chunk);
    });
  }

  #deliver(chunk: Uint8Array): void {
    // Like EventEmitter: a throwing listener is a bug in the caller and propagates.
    for (const listener of [...this.#listeners]) listener(chunk);
  }
}
