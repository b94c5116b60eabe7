/**
 * The listener plumbing every `SerialLink` adapter shares: received bytes (through {@link DataFanout},
 * which keeps bytes that arrive before the first listener) and the "link gone" notification.
 */
import { DataFanout } from './data-fanout.ts';

export class LinkListeners {
  readonly data = new DataFanout();
  readonly #gone = new Set<(err: Error) => void>();

  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.data.subscribe(listener);
  }

  onGone(listener: (err: Error) => void): () => void {
    this.#gone.add(listener);
    return () => {
      this.#gone.delete(listener);
    };
  }

  /** Tells every `onGone` listener that the link vanished. */
  emitGone(err: Error): void {
    for (const listener of [...this.#gone]) listener(err);
  }

  /** Drops all listeners and kept bytes (the link was closed). */
  dispose(): void {
    this.data.dispose();
    this.#gone.clear();
  }
}

/**
 * Writes through a callback-style API (`socket.write`, `port.write`) as a promise; a write error
 * becomes whatever `toError` makes of it (the adapters turn it into `LINK_GONE`).
 */
export function writeWithCallback(write: (done: (err?: Error | null) => void) => void, toError: (err: Error) => Error): Promise<void> {
  return new Promise((resolve, reject) => {
    write((err) => {
      if (err) reject(toError(err));
      else resolve();
    });
  });
}
