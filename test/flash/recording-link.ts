/**
 * A SerialLink that records what the host does (writes, signal changes, baud changes) and lets a test
 * push bytes from the "board" or make the link vanish. For the Web Serial shim tests.
 */
import { HilError } from '../../runner/errors.ts';
import type { SerialLink } from '../../runner/link/serial-link.ts';

export class RecordingLink implements SerialLink {
  readonly url = 'fake://flash-link';
  baudRate = 115200;
  isOpen = true;
  signals = { dtr: false, rts: false };
  readonly writes: Uint8Array[] = [];
  readonly signalCalls: { dtr?: boolean; rts?: boolean }[] = [];
  readonly baudCalls: number[] = [];
  closeCalls = 0;
  readonly #data = new Set<(chunk: Uint8Array) => void>();
  readonly #gone = new Set<(err: Error) => void>();

  get dataListenerCount(): number {
    return this.#data.size;
  }

  async write(data: Uint8Array): Promise<void> {
    if (!this.isOpen) throw new HilError('LINK_GONE', 'closed');
    this.writes.push(new Uint8Array(data));
  }
  onData(listener: (chunk: Uint8Array) => void): () => void {
    this.#data.add(listener);
    return () => this.#data.delete(listener);
  }
  onGone(listener: (err: Error) => void): () => void {
    this.#gone.add(listener);
    return () => this.#gone.delete(listener);
  }
  async setSignals(signals: { dtr?: boolean; rts?: boolean }): Promise<void> {
    this.signalCalls.push({ ...signals });
    this.signals = { dtr: signals.dtr ?? this.signals.dtr, rts: signals.rts ?? this.signals.rts };
  }
  async setBaudRate(baudRate: number): Promise<void> {
    this.baudCalls.push(baudRate);
    this.baudRate = baudRate;
  }
  async purgeInput(): Promise<void> {}
  async close(): Promise<void> {
    this.closeCalls++;
    this.isOpen = false;
  }

  /** Bytes arriving from the board. */
  push(bytes: Uint8Array): void {
    for (const l of [...this.#data]) l(bytes);
  }
  /** The link vanishes (peer closed). */
  vanish(): void {
    this.isOpen = false;
    for (const l of [...this.#gone]) l(new Error('peer closed'));
  }
}
