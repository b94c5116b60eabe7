/** A {@link SerialLink} a test feeds by hand: `feed()` delivers bytes, `vanish()` unplugs it. Writes go nowhere. */
import type { SerialLink } from '../../runner/link/serial-link.ts';

export class HandFedLink implements SerialLink {
  readonly baudRate = 115200;
  isOpen = true;
  readonly #data = new Set<(chunk: Uint8Array) => void>();
  readonly #gone = new Set<(err: Error) => void>();

  constructor(
    readonly url = 'hand://fed',
    readonly signals: { readonly dtr: boolean; readonly rts: boolean } = { dtr: false, rts: false },
  ) {}

  feed(bytes: string | Uint8Array): void {
    const chunk = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
    for (const listener of this.#data) listener(chunk);
  }
  vanish(): void {
    this.isOpen = false;
    for (const listener of this.#gone) listener(new Error('unplugged'));
  }
  async write(): Promise<void> {}
  onData(listener: (chunk: Uint8Array) => void): () => void {
    this.#data.add(listener);
    return () => this.#data.delete(listener);
  }
  onGone(listener: (err: Error) => void): () => void {
    this.#gone.add(listener);
    return () => this.#gone.delete(listener);
  }
  async setSignals(): Promise<void> {}
  async setBaudRate(): Promise<void> {}
  async purgeInput(): Promise<void> {}
  async close(): Promise<void> {
    this.isOpen = false;
  }
}
