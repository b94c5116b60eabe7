/**
 * Test-only Web-Serial-shaped device over an `Rfc2217Link`, just enough for esptool-js's `Transport`
 * (reference esptool-protocol.md §B, §11.2–§11.4). The product's adapter lives in runner/flash/.
 */
import { Rfc2217Link } from '../../../runner/link/rfc2217-link.ts';

export class Rfc2217WebSerialDevice {
  readable: ReadableStream<Uint8Array> | null = null;
  writable: WritableStream<Uint8Array> | null = null;
  #link: Rfc2217Link | null = null;

  constructor(private readonly url: string) {}

  /** No USB identity over the network: esptool-js picks the classic reset. */
  getInfo(): { usbVendorId?: number; usbProductId?: number } {
    return {};
  }

  async open(options: { baudRate: number }): Promise<void> {
    const link = await Rfc2217Link.open(this.url, { baudRate: options.baudRate });
    this.#link = link;
    let unsubscribe = (): void => {};
    this.readable = new ReadableStream<Uint8Array>({
      start(controller) {
        unsubscribe = link.onData((chunk) => controller.enqueue(new Uint8Array(chunk)));
      },
      // Cancelling the reader must not close the port (§B.6).
      cancel() {
        unsubscribe();
      },
    });
    this.writable = new WritableStream<Uint8Array>({ write: (chunk) => link.write(chunk) });
  }

  async close(): Promise<void> {
    const link = this.#link;
    this.#link = null;
    this.readable = null;
    this.writable = null;
    await link?.close();
  }

  /** The link merges DTR/RTS with its remembered state (§B.3). */
  async setSignals(signals: { dataTerminalReady?: boolean; requestToSend?: boolean }): Promise<void> {
    await this.#requireLink().setSignals({
      ...(signals.dataTerminalReady !== undefined ? { dtr: signals.dataTerminalReady } : {}),
      ...(signals.requestToSend !== undefined ? { rts: signals.requestToSend } : {}),
    });
  }

  async setBaudRate(baudRate: number): Promise<void> {
    await this.#requireLink().setBaudRate(baudRate);
  }

  #requireLink(): Rfc2217Link {
    if (this.#link === null) throw new Error('device is not open');
    return this.#link;
  }
}
