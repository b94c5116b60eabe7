/**
 * The host thread's end of a board's native USB, one per interpreter worker: it attaches the worker's
 * firmware to the board's {@link BoardUsbPort} when the interpreter starts (the firmware then decides
 * what the bus sees, from its first `connect` after `boot.py`), passes the worker's messages on to
 * the port in order, and writes the controller's events into the shared {@link UsbdEventRing},
 * ringing the worker's doorbell so a blocked worker wakes.
 *
 * Each event is tagged with the number of `connect` messages passed on so far: the worker drops
 * events of a connection it has ended. Events that do not fit the ring wait here, in order, until
 * the worker has taken enough.
 *
 * Without a port the board's USB goes nowhere: the worker is told to post nothing and no event ever
 * arrives (transfers never complete).
 */
import type { BoardUsbPort, UsbdFirmwareEvent } from '../usbd/board-usb-port.ts';
import { DEFAULT_USBD_RING_CAPACITY, UsbdEventRing } from './usbd-event-ring.ts';
import type { UsbdWorkerMessage } from './usbd-messages.ts';

interface PendingEvent {
  connection: number;
  event: UsbdFirmwareEvent;
}

/** See the module note. */
export class UsbdHostBridge {
  /** The events' way to the worker (pass `events.buffer` in the worker's init data). */
  readonly events: UsbdEventRing;
  readonly #port: BoardUsbPort | undefined;
  readonly #wake: () => void;
  readonly #detach: () => void;
  #connections = 0;
  #backlog: PendingEvent[] = [];
  #draining = false;
  #disposed = false;

  /**
   * Attaches the firmware to `port` at once (call it before the worker starts).
   * @param port the board's USB device controller (optional)
   * @param wake rings the worker's doorbell
   * @param ringCapacityBytes size of the event ring; default {@link DEFAULT_USBD_RING_CAPACITY}
   */
  constructor(port: BoardUsbPort | undefined, wake: () => void, ringCapacityBytes = DEFAULT_USBD_RING_CAPACITY) {
    this.events = UsbdEventRing.create(ringCapacityBytes);
    this.#port = port;
    this.#wake = wake;
    this.#detach = port?.attachFirmware((event) => this.#deliver(event)) ?? (() => {});
  }

  /** True when there is a port to talk to (the worker posts USB messages only then). */
  get attached(): boolean {
    return this.#port !== undefined;
  }

  /** Passes one message of the worker on to the port. */
  handle(message: UsbdWorkerMessage): void {
    if (this.#disposed) return;
    if (message.message.kind === 'connect') this.#connections++;
    this.#port?.fromFirmware(message.message);
  }

  /** The interpreter stopped: detach from the port (the device leaves the bus) and drop waiting events. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#backlog = [];
    this.#detach();
  }

  /** The port's sink. Throws RangeError for an event larger than the whole ring (the port's caller must not send it). */
  #deliver(event: UsbdFirmwareEvent): void {
    if (this.#disposed) return;
    if (!this.events.canHold(event)) {
      throw new RangeError(`USB event ${event.kind} for the interpreter is larger than its ${this.events.capacity}-byte event ring`);
    }
    const pending = { connection: this.#connections, event };
    if (this.#backlog.length === 0 && this.events.offer(pending.connection, pending.event)) {
      this.#wake();
      return;
    }
    this.#backlog.push(pending);
    void this.#drain();
  }

  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (!this.#disposed) {
        const head = this.#backlog[0];
        if (head === undefined) break;
        const seen = this.events.readMark();
        if (this.events.offer(head.connection, head.event)) {
          this.#backlog.shift();
          this.#wake();
          continue;
        }
        await this.events.waitForSpace(seen);
      }
    } finally {
      this.#draining = false;
    }
  }
}
