/**
 * The board end of a simulated serial port, with wire-time pacing: board → host bytes wait in a
 * transmit queue that a timer drains at the wire rate (baud/10 bytes per second for a UART, times the
 * speed factor), a small batch per tick. Nothing busy-waits and an idle port runs no timers.
 *
 * Speed factor convention: `1` = real time, `2` = twice as fast, `0.5` = half speed,
 * `Infinity` = unpaced (bytes are delivered in order on the next microtask). Zero or negative
 * values are rejected.
 *
 * Host → board bytes cross the same wire: they are paced at the same rate before they reach
 * `onReceive`, so an upload (a firmware image) takes its wire time too. While the port is disabled
 * (chip held in reset or powered off) they are dropped.
 */
import type { SimSerialPort } from './sim-serial-port.ts';
import { systemClock, type BoardClock } from './board-clock.ts';
import { ListenerSet } from './listener-set.ts';
import { PacedByteQueue } from './paced-byte-queue.ts';

/** Logical modem-line state (true = asserted). */
export interface ModemLines {
  readonly dtr: boolean;
  readonly rts: boolean;
}

/** What happens to board output while no host holds the port open. */
export type DetachedOutputPolicy =
  /** A UART behind a bridge: bytes go out on the wire whether or not anybody listens. */
  | 'transmit'
  /** USB-Serial-JTAG: output is dropped without a reader. */
  | 'drop'
  /** TinyUSB CDC: output overwrites a FIFO whose latest bytes are delivered when a host connects. */
  | 'overwrite-fifo';

/** How the port carries bytes; changes with the board's mode (see `console-profiles.ts`). */
export interface ConsoleLinkProfile {
  whenDetached: DetachedOutputPolicy;
  /** Size of the overwrite FIFO for `overwrite-fifo`. */
  fifoBytes: number;
  /** Wire rate in bytes per second at speed factor 1, given the current baud rate. */
  wireBytesPerSecond(baudRate: number): number;
}

/** A UART behind a bridge: 8N1 framing, 10 bits per byte, transmitted regardless of the host. */
export const UART_LINK_PROFILE: ConsoleLinkProfile = Object.freeze({
  whenDetached: 'transmit',
  fifoBytes: 0,
  wireBytesPerSecond: (baudRate: number) => baudRate / 10,
});

/** Options of {@link SimUart}. */
export interface SimUartOptions {
  boardId: string;
  /** Bytes from the host while the port is enabled. */
  onReceive(data: Uint8Array): void;
  /** A non-redundant modem-line change (redundant writes are filtered out here). */
  onModemLines(lines: ModemLines, previous: ModemLines): void;
  clock?: BoardClock;
  /** See the module note; default 1. */
  speedFactor?: number;
  /** Initial baud rate; default 115200. */
  baudRate?: number;
  /** Initial profile; default {@link UART_LINK_PROFILE}. */
  profile?: ConsoleLinkProfile;
  /** Called when an `onTransmit` listener throws. */
  onListenerError?(err: unknown): void;
}

/**
 * Queue bound. A real UART driver blocks the writer when its buffer is full; the board cannot block
 * the interpreter, so beyond this (only reached by runaway output) new bytes are dropped.
 */
export const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

/** A paced serial port implementing the {@link SimSerialPort} contract plus the board-side API. */
export class SimUart implements SimSerialPort {
  readonly boardId: string;
  #baudRate: number;
  #lines: ModemLines = { dtr: false, rts: false };
  #hostAttached = false;
  #enabled = false;
  #profile: ConsoleLinkProfile;
  readonly #clock: BoardClock;
  readonly #speedFactor: number;
  readonly #onReceive: (data: Uint8Array) => void;
  readonly #onModemLines: (lines: ModemLines, previous: ModemLines) => void;
  readonly #listeners: ListenerSet<[Uint8Array]>;

  #fifo: Uint8Array = new Uint8Array(0);
  /** Board → host. */
  readonly #tx: PacedByteQueue;
  /** Host → board. */
  readonly #rx: PacedByteQueue;

  constructor(options: SimUartOptions) {
    const speedFactor = options.speedFactor ?? 1;
    if (!(speedFactor > 0)) throw new RangeError(`speedFactor must be > 0 (Infinity = unpaced), got ${speedFactor}`);
    this.boardId = options.boardId;
    this.#speedFactor = speedFactor;
    this.#baudRate = checkBaud(options.baudRate ?? 115200);
    this.#clock = options.clock ?? systemClock;
    this.#profile = options.profile ?? UART_LINK_PROFILE;
    this.#onReceive = options.onReceive;
    this.#onModemLines = options.onModemLines;
    this.#listeners = new ListenerSet(options.onListenerError);
    const bytesPerMs = (): number => (this.#profile.wireBytesPerSecond(this.#baudRate) * this.#speedFactor) / 1000;
    this.#tx = new PacedByteQueue({ clock: this.#clock, bytesPerMs, maxQueuedBytes: MAX_QUEUED_BYTES, deliver: (chunk) => this.#listeners.emit(chunk) });
    this.#rx = new PacedByteQueue({
      clock: this.#clock, bytesPerMs, maxQueuedBytes: MAX_QUEUED_BYTES,
      deliver: (chunk) => { if (this.#enabled) this.#onReceive(chunk); },
    });
  }

  // ---- SimSerialPort (host side) ----

  get baudRate(): number {
    return this.#baudRate;
  }

  receiveFromHost(data: Uint8Array): void {
    if (!this.#enabled || data.length === 0) return;
    this.#rx.enqueue(data);
  }

  onTransmit(listener: (chunk: Uint8Array) => void): () => void {
    return this.#listeners.add(listener);
  }

  /** Applies a host baud-rate change; pacing uses it from the next tick. RangeError unless > 0. */
  setBaudRate(baudRate: number): void {
    this.#baudRate = checkBaud(baudRate);
  }

  setModemLines(lines: { dtr: boolean; rts: boolean }): void {
    const previous = this.#lines;
    if (previous.dtr === lines.dtr && previous.rts === lines.rts) return;
    this.#lines = { dtr: lines.dtr, rts: lines.rts };
    this.#onModemLines(this.#lines, previous);
  }

  purgeTransmit(): void {
    this.#tx.clear();
  }

  setHostAttached(attached: boolean): void {
    if (attached === this.#hostAttached) return;
    this.#hostAttached = attached;
    if (attached) {
      if (this.#fifo.length > 0) {
        const fifo = this.#fifo;
        this.#fifo = new Uint8Array(0);
        this.#tx.enqueue(fifo);
      }
    } else if (this.#profile.whenDetached !== 'transmit') {
      // TinyUSB discards pending TX when the host goes away; USB-Serial-JTAG has nobody to send to.
      this.#tx.clear();
    }
  }

  // ---- board side ----

  /** Current modem lines as last set by the host. */
  get modemLines(): ModemLines {
    return this.#lines;
  }

  /** Whether a host holds the port open. */
  get hostAttached(): boolean {
    return this.#hostAttached;
  }

  /** Bytes waiting to go out on the wire. */
  get queuedBytes(): number {
    return this.#tx.queuedBytes;
  }

  /**
   * Enables or disables the port. Disabled (chip in reset or unpowered): queued and new output is
   * discarded and host input is dropped.
   */
  setEnabled(enabled: boolean): void {
    this.#enabled = enabled;
    if (!enabled) {
      this.#tx.clear();
      this.#rx.clear();
      this.#fifo = new Uint8Array(0);
    }
  }

  /** Switches how bytes are carried (the chip's console moved between UART, USB-JTAG and TinyUSB). */
  setProfile(profile: ConsoleLinkProfile): void {
    this.#profile = profile;
    this.#fifo = new Uint8Array(0);
  }

  /** Queues board output for the host, subject to the detached-output policy. */
  transmit(data: Uint8Array): void {
    if (!this.#enabled || data.length === 0) return;
    if (!this.#hostAttached) {
      if (this.#profile.whenDetached === 'drop') return;
      if (this.#profile.whenDetached === 'overwrite-fifo') {
        this.#fifo = keepTail(this.#fifo, data, this.#profile.fifoBytes);
        return;
      }
    }
    this.#tx.enqueue(data);
  }

  /** Resolves once every queued byte has been delivered (or discarded). */
  whenDrained(): Promise<void> {
    return this.#tx.whenDrained();
  }

  /** Stops the pacing timer and discards queued output (board disposal). */
  dispose(): void {
    this.setEnabled(false);
  }
}

function checkBaud(baudRate: number): number {
  if (!Number.isFinite(baudRate) || baudRate <= 0) throw new RangeError(`baud rate must be > 0, got ${baudRate}`);
  return baudRate;
}

function keepTail(fifo: Uint8Array, data: Uint8Array, capacity: number): Uint8Array {
  if (capacity <= 0) return new Uint8Array(0);
  const joined = new Uint8Array(fifo.length + data.length);
  joined.set(fifo);
  joined.set(data, fifo.length);
  return joined.length > capacity ? joined.slice(joined.length - capacity) : joined;
}
