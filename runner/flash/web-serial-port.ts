/**
 * A Web-Serial-shaped device over any {@link SerialLink}, so esptool-js's `Transport` can drive a board
 * reached over RFC 2217 or a local tty. The contract esptool-js relies on is in
 * reference/esptool-protocol.md §11.2 and §B items 2–6; the pitfalls it avoids are §13 items 13 and 14.
 *
 * This file deliberately does not import esptool-js (only `esptool-flasher.ts` does): the shape is
 * structural, so the shim is testable with a fake link and no library.
 */
import { HilError } from '../errors.ts';
import type { SerialLink } from '../link/serial-link.ts';

/** What `getInfo()` reports; numbers, because esptool-js compares them with 0x303A / 0x1001 (§B.5). */
export interface WebSerialPortInfo {
  usbVendorId?: number;
  usbProductId?: number;
}

/** The options esptool-js passes to `open()`; every field but the baud rate may be undefined (§11.2). */
export interface WebSerialOpenOptions {
  baudRate?: number | undefined;
  dataBits?: number | undefined;
  stopBits?: number | undefined;
  parity?: string | undefined;
  bufferSize?: number | undefined;
  flowControl?: string | undefined;
}

/** Modem lines as Web Serial names them; omitted lines keep their state. */
export interface WebSerialSignals {
  dataTerminalReady?: boolean | undefined;
  requestToSend?: boolean | undefined;
  break?: boolean | undefined;
}

/** Construction options of {@link SerialLinkWebSerialPort}. */
export interface SerialLinkWebSerialPortOptions {
  /**
   * USB identity of the board when known (local ttys). Leave undefined for RFC 2217 links: esptool-js
   * then uses the classic DTR/RTS reset, which is what a remote port can do (§13 item 16).
   */
  usbVendorId?: number;
  usbProductId?: number;
}

/**
 * Presents a {@link SerialLink} as a Web Serial `SerialPort`.
 *
 * - `open()` creates fresh streams each time and never opens the link (it is already open);
 * - `close()` and stream `cancel()` detach from the link but never close it: the link belongs to the
 *   caller, who uses it again for the REPL after flashing;
 * - `setSignals()` merges with the remembered DTR/RTS state and always hands both lines to the link;
 * - `setBaudRate()` changes the rate in place, so esptool-js never closes and reopens the port (§13.14).
 */
export class SerialLinkWebSerialPort {
  /** Bytes from the board while open; null when closed (esptool-js's read loop runs while non-null). */
  readable: ReadableStream<Uint8Array> | null = null;
  /** Bytes to the board while open; null when closed. */
  writable: WritableStream<Uint8Array> | null = null;

  readonly #link: SerialLink;
  readonly #info: WebSerialPortInfo;
  #detach: (() => void) | null = null;
  #dtr: boolean;
  #rts: boolean;

  constructor(link: SerialLink, options: SerialLinkWebSerialPortOptions = {}) {
    this.#link = link;
    const info: WebSerialPortInfo = {};
    if (options.usbVendorId !== undefined) info.usbVendorId = options.usbVendorId;
    if (options.usbProductId !== undefined) info.usbProductId = options.usbProductId;
    this.#info = info;
    this.#dtr = link.signals.dtr;
    this.#rts = link.signals.rts;
  }

  /** Synchronous, as in Web Serial; esptool-js calls it from its constructor. */
  getInfo(): WebSerialPortInfo {
    return { ...this.#info };
  }

  /**
   * Starts delivering the link's bytes through a new `readable` and accepts writes through a new
   * `writable`; applies `options.baudRate` when it differs from the link's rate. Throws `LINK_GONE`
   * when the link is closed, and an Error when already open (as Web Serial does).
   */
  async open(options: WebSerialOpenOptions = {}): Promise<void> {
    if (this.readable !== null) throw new Error(`${this.#link.url}: port is already open`);
    this.#assertLinkOpen();
    if (options.baudRate !== undefined && options.baudRate !== this.#link.baudRate) {
      await this.#link.setBaudRate(options.baudRate);
    }
    const link = this.#link;
    const port = this;
    let stopData: (() => void) | null = null;
    let stopGone: (() => void) | null = null;
    const detach = (): void => {
      stopData?.();
      stopGone?.();
      stopData = null;
      stopGone = null;
    };
    let controllerRef: ReadableStreamDefaultController<Uint8Array> | null = null;
    this.readable = new ReadableStream<Uint8Array>({
      start(controller) {
        controllerRef = controller;
        // Copy: the link may reuse its buffer after the listener returns.
        stopData = link.onData((chunk) => controller.enqueue(new Uint8Array(chunk)));
        stopGone = link.onGone((err) => {
          detach();
          controller.error(new HilError('LINK_GONE', `${link.url}: link vanished while flashing`, {}, { cause: err }));
          // Web Serial: a lost device's streams go away, so a writer left locked by a failed write does
          // not keep esptool-js's disconnect waiting for the lock forever.
          port.readable = null;
          port.writable = null;
        });
      },
      // Cancelling the stream (esptool-js disconnect) must not close the port (§B.6).
      cancel() {
        detach();
      },
    });
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) => link.write(chunk),
    });
    this.#detach = () => {
      detach();
      try {
        controllerRef?.close();
      } catch {
        // Already closed or errored: nothing left to end.
      }
    };
  }

  /** Detaches from the link and sets `readable`/`writable` to null. The link stays open. Idempotent. */
  async close(): Promise<void> {
    this.#detach?.();
    this.#detach = null;
    this.readable = null;
    this.writable = null;
  }

  /**
   * Sets DTR and/or RTS. Merged with the remembered state and always sent as both lines, so changing
   * one never disturbs the other (§B.3, §13.13). `break` is ignored: no client here sends one.
   */
  async setSignals(signals: WebSerialSignals): Promise<void> {
    this.#assertLinkOpen();
    if (signals.dataTerminalReady !== undefined) this.#dtr = signals.dataTerminalReady;
    if (signals.requestToSend !== undefined) this.#rts = signals.requestToSend;
    await this.#link.setSignals({ dtr: this.#dtr, rts: this.#rts });
  }

  /** Changes the baud rate in place (esptool-js's optional `BaudRateConfigurablePort` capability). */
  async setBaudRate(baudRate: number): Promise<void> {
    this.#assertLinkOpen();
    await this.#link.setBaudRate(baudRate);
  }

  #assertLinkOpen(): void {
    if (!this.#link.isOpen) throw new HilError('LINK_GONE', `${this.#link.url}: serial link is closed`);
  }
}
