/**
 * A set of listeners with unsubscribe-by-return, used for the board's small observer APIs. A throwing
 * listener must not break the board (or the other listeners), so errors go to `onListenerError`.
 */
export class ListenerSet<Args extends unknown[]> {
  readonly #listeners = new Set<(...args: Args) => void>();
  readonly #onListenerError: (err: unknown) => void;

  constructor(onListenerError: (err: unknown) => void = () => {}) {
    this.#onListenerError = onListenerError;
  }

  /** Adds a listener; returns the function that removes it. */
  add(listener: (...args: Args) => void): () => void {
    // Wrap so the same function may be subscribed twice and unsubscribed independently.
    const entry = (...args: Args) => listener(...args);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /** Calls every listener with `args`. */
  emit(...args: Args): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(...args);
      } catch (err: unknown) {
        this.#onListenerError(err);
      }
    }
  }

  /** Number of listeners. */
  get size(): number {
    return this.#listeners.size;
  }
}
