/**
 * The board end of a simulated serial port, with wire-time pacing: board → host bytes wait in a
 * transmit queue that a timer drains at the wire rate (baud/10 bytes per second for a UART, times the
 * speed factor), a small batch per tick. Nothing busy-waits and an idle port runs no timers.
 *
 * Speed factor convention: `1` = real time, `2` = twice as fast, `0.5` = half speed,
 * `Infinity` = unpaced (bytes are delivered in order on the next microtask). Zero or negative
 * values are rejected.
 *
 * Host → board bytes are not paced (the host's own link paces them) and go to `onReceive`, unless the
 * port is disabled (chip held in reset or powered off), in which case they are dropped.
 */
import type { SimSerialPort } from './sim-serial-port.ts';
import { systemClock, type BoardClock, type TimerHandle } from './board-clock.ts';
import { ListenerSet } from './listener-set.ts';

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

/** Longest pause between two pacing ticks; bounds the batch size and the added latency. */
const MAX_TICK_MS = 10;
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

  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #fifo: Uint8Array = new Uint8Array(0);
  #timer: TimerHandle | null = null;
  #microtaskPending = false;
  #pacing = false;
  #lastTickMs = 0;
  #creditBytes = 0;
  #drainWaiters: (() => void)[] = [];

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
  }

  // ---- SimSerialPort (host side) ----

  get baudRate(): number {
    return this.#baudRate;
  }

  receiveFromHost(data: Uint8Array): void {
    if (!this.#enabled || data.length === 0) return;
    this.#onReceive(data);
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
    this.#clearQueue();
  }

  setHostAttached(attached: boolean): void {
    if (attached === this.#hostAttached) return;
    this.#hostAttached = attached;
    if (attached) {
      if (this.#fifo.length > 0) {
        const fifo = this.#fifo;
        this.#fifo = new Uint8Array(0);
        this.#enqueue(fifo);
      }
    } else if (this.#profile.whenDetached !== 'transmit') {
      // TinyUSB discards pending TX when the host goes away; USB-Serial-JTAG has nobody to send to.
      this.#clearQueue();
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
    return this.#queuedBytes;
  }

  /**
   * Enables or disables the port. Disabled (chip in reset or unpowered): queued and new output is
   * discarded and host input is dropped.
   */
  setEnabled(enabled: boolean): void {
    this.#enabled = enabled;
    if (!enabled) {
      this.#clearQueue();
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
    this.#enqueue(data);
  }

  /** Resolves once every queued byte has been delivered (or discarded). */
  whenDrained(): Promise<void> {
    if (this.#queuedBytes === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Stops the pacing timer and discards queued output (board disposal). */
  dispose(): void {
    this.setEnabled(false);
  }

  // ---- pacing ----

  #enqueue(data: Uint8Array): void {
    const room = MAX_QUEUED_BYTES - this.#queuedBytes;
    if (room <= 0) return;
    const accepted = data.length > room ? data.subarray(0, room) : data;
    this.#queue.push(accepted.slice());
    this.#queuedBytes += accepted.length;
    this.#schedule();
  }

  #bytesPerMs(): number {
    return (this.#profile.wireBytesPerSecond(this.#baudRate) * this.#speedFactor) / 1000;
  }

  #schedule(): void {
    if (this.#queuedBytes === 0 || this.#timer !== null || this.#microtaskPending) return;
    if (this.#speedFactor === Infinity) {
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
      this.#lastTickMs = this.#clock.now();
      this.#creditBytes = 0;
    }
    const needMs = (this.#queuedBytes - this.#creditBytes) / this.#bytesPerMs();
    const delayMs = Math.min(MAX_TICK_MS, Math.max(1, Math.ceil(needMs)));
    this.#timer = this.#clock.setTimeout(() => this.#tick(), delayMs);
  }

  #tick(): void {
    this.#timer = null;
    const now = this.#clock.now();
    this.#creditBytes += Math.max(0, now - this.#lastTickMs) * this.#bytesPerMs();
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
    this.#listeners.emit(chunk.subarray(0, filled));
  }

  #clearQueue(): void {
    if (this.#timer !== null) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = null;
    }
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#afterDelivery();
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
