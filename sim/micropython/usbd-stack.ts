/**
 * The worker's end of a native-USB board's device stack: what TinyUSB and MicroPython's glue
 * (`shared/tinyusb/mp_usbd*.c`, `extmod/machine_usb_device.c`; reference
 * micropython-host-protocols.md §2.3–2.4, §8) keep below `machine.USBDevice`, talking to the board's
 * USB device controller on the host thread through {@link UsbdFirmwareMessage}s (posted) and
 * {@link UsbdFirmwareEvent}s (taken from the shared {@link UsbdEventRing}).
 *
 * It keeps two kinds of state:
 * - what the bus shows now (nothing, the built-in CDC, or a runtime device with its built-in driver):
 *   the USB peripheral's, so it survives soft resets, as this object does (one per worker);
 * - the runtime device of the current VM (active or not, configured by the host or not, endpoints
 *   with a transfer pending, stall flags), dropped at every soft reset with the `USBDevice` singleton.
 *
 * Presentation follows mp_usbd_runtime.c: `active(True)` disconnects first when the device is on the
 * bus, then connects the runtime device; `active(False)` disconnects and leaves the device off the bus
 * (the built-in CDC included) until `active(True)` or the next soft reset; soft reset disconnects only
 * when a runtime device was active (`mp_usbd_deinit`), and after `boot.py` `mp_usbd_init` connects the
 * built-in CDC unless the device is on the bus already. Every disconnect holds the device off the bus
 * for at least 50 ms of real time, so the host sees it leave before anything else happens.
 *
 * Events become Python callbacks through a scheduled trampoline, as ESP-NOW's irq does: at the VM's
 * safe points (clock reads, sleeps and waits, the idle REPL) {@link dispatchIrq} schedules it when an
 * event is waiting, and the trampoline takes them one by one with {@link takeEvent}.
 */
import type { BuiltinDriver, RuntimeUsbConfig, UsbdFirmwareEvent, UsbdFirmwareMessage } from '../usbd/board-usb-port.ts';
import type { BuiltinCdcDevice } from '../usbd/builtin-cdc-device.ts';
import type { UsbdEventRing } from './usbd-event-ring.ts';

/** What the device presents on the bus while connected. */
export interface PresentedUsbDevice {
  builtin: BuiltinDriver;
  /** Null: the built-in driver's own descriptors (the built-in CDC alone). */
  runtime: RuntimeUsbConfig | null;
}

/** A control-transfer answer of `control_xfer_cb` (the `control-reply` message without its kind). */
export type UsbdControlReply = Omit<Extract<UsbdFirmwareMessage, { kind: 'control-reply' }>, 'kind'>;

/** What {@link UsbdStack} needs. */
export interface UsbdStackOptions {
  /** The chip has a USB-OTG peripheral the firmware drives (ESP32-S2/S3); otherwise the stack never connects. */
  nativeUsb: boolean;
  /** `machine.USBDevice` exists in this firmware (see `usbd-availability.ts`). */
  deviceApi: boolean;
  /** The built-in CDC of this board and firmware (`BUILTIN_CDC`'s numbers and descriptors). */
  builtin: BuiltinCdcDevice;
  /** The controller's events (consumer end). */
  events: UsbdEventRing;
  /** Posts one message to the controller; null when the host has no port (nothing is posted). */
  post: ((message: UsbdFirmwareMessage) => void) | null;
  /** Sends buffered console output, so the host sees output and USB messages in the order they happened. */
  flushConsole(): void;
  /** How long a disconnect keeps the device off the bus; default {@link DISCONNECT_HOLD_MS}. */
  disconnectHoldMs?: number;
}

/** mp_usbd_disconnect() waits this long after a disconnect so that the host notices it (and resets the bus). */
export const DISCONNECT_HOLD_MS = 50;

/**
 * Schedules the Python side's event trampoline (`micropython.schedule`). It runs nested inside a
 * `_board_hw` call, so it must be straight-line Python (see `radio-espnow-endpoint.ts` IrqHandler).
 * Throws when the schedule queue is full.
 */
export type UsbdIrqHandler = () => void;

/** Endpoint address as a key: number and direction bit only. */
function endpointKey(endpoint: number): number {
  return endpoint & 0x8f;
}

/** See the module note. */
export class UsbdStack {
  readonly nativeUsb: boolean;
  readonly deviceApi: boolean;
  readonly builtin: BuiltinCdcDevice;
  readonly #events: UsbdEventRing;
  readonly #post: ((message: UsbdFirmwareMessage) => void) | null;
  readonly #flushConsole: () => void;
  readonly #holdMs: number;
  readonly #holdWord = new Int32Array(new SharedArrayBuffer(4));
  // ---- the bus (survives soft resets) ----
  #bus: PresentedUsbDevice | null = null;
  /** `connect` messages sent so far: events tagged with an older count belong to an ended connection. */
  #connections = 0;
  // ---- the current VM's runtime device ----
  /** `USBDevice()` has been called in this VM. */
  #singleton = false;
  #active = false;
  #configured = false;
  readonly #pending = new Set<number>();
  readonly #stalled = new Set<number>();
  readonly #queue: UsbdFirmwareEvent[] = [];
  #irqHandler: UsbdIrqHandler | null = null;
  #irqScheduled = false;

  constructor(options: UsbdStackOptions) {
    this.nativeUsb = options.nativeUsb;
    this.deviceApi = options.deviceApi;
    this.builtin = options.builtin;
    this.#events = options.events;
    this.#post = options.post;
    this.#flushConsole = options.flushConsole;
    this.#holdMs = options.disconnectHoldMs ?? DISCONNECT_HOLD_MS;
  }

  /** What the bus shows now (null: the device is off the bus). */
  presented(): PresentedUsbDevice | null {
    return this.#bus;
  }

  /** The runtime device is active (`USBDevice.active()`). */
  isActive(): boolean {
    return this.#active;
  }

  /** The host has set a configuration of the runtime device (and not reset the bus since). */
  isConfigured(): boolean {
    return this.#configured;
  }

  /** `active(True)`: reconnects presenting `device` (disconnecting first when on the bus). */
  activate(device: PresentedUsbDevice): void {
    this.#active = true;
    if (this.#bus !== null) this.#disconnect();
    this.#connect(device);
  }

  /** `active(False)`: the device leaves the bus. */
  deactivate(): void {
    this.#active = false;
    if (this.#bus !== null) this.#disconnect();
    this.#forgetTransfers();
  }

  /**
   * `submit_xfer`: false when the host has not configured the device or a transfer is pending on the
   * endpoint; otherwise the transfer is queued (IN: its bytes; OUT: the buffer size) and pending until
   * its completion event is taken.
   */
  submit(endpoint: number, transfer: { data: Uint8Array } | { length: number }): boolean {
    const key = endpointKey(endpoint);
    if (!this.#configured || this.#pending.has(key)) return false;
    this.#pending.add(key);
    this.#send({ kind: 'submit', endpoint, ...transfer });
    return true;
  }

  /** The endpoint's STALL flag as the firmware last set it. */
  isStalled(endpoint: number): boolean {
    return this.#stalled.has(endpointKey(endpoint));
  }

  /** `stall(ep, flag)`. */
  setStall(endpoint: number, stall: boolean): void {
    if (stall) this.#stalled.add(endpointKey(endpoint));
    else this.#stalled.delete(endpointKey(endpoint));
    this.#send({ kind: 'stall', endpoint, stall });
  }

  /** The answer of `control_xfer_cb` to one stage of control transfer `reply.id`. */
  replyControl(reply: UsbdControlReply): void {
    this.#send({ kind: 'control-reply', ...reply });
  }

  /** `USBDevice()` created the singleton, whose trampoline `handler` schedules. */
  createSingleton(handler: UsbdIrqHandler): void {
    this.#singleton = true;
    this.setIrqHandler(handler);
  }

  /** Sets (or clears) the trampoline scheduler; events already waiting are kept. */
  setIrqHandler(handler: UsbdIrqHandler | null): void {
    this.#irqHandler = handler;
    this.#irqScheduled = false;
  }

  /**
   * Called at the VM's safe points: when events of the current runtime device are waiting, schedules
   * the trampoline (once). True when it scheduled it now. One atomic load when nothing arrived.
   */
  dispatchIrq(): boolean {
    this.#pull();
    if (this.#queue.length === 0 || this.#irqScheduled) return false;
    const handler = this.#irqHandler;
    if (handler === null) {
      this.#queue.length = 0; // no USBDevice singleton: nobody to call back
      return false;
    }
    try {
      handler();
    } catch {
      return false; // schedule queue full: the next safe point tries again
    }
    this.#irqScheduled = true;
    return true;
  }

  /**
   * The trampoline takes the next event, or null when none is left (it then finishes). Taking an
   * event applies it to the stack's state as TinyUSB does before the callback: configured or not,
   * transfers forgotten at a bus reset, the endpoint's pending transfer done at its completion
   * (a completion for an endpoint with nothing pending is dropped).
   */
  takeEvent(): UsbdFirmwareEvent | null {
    this.#pull();
    for (;;) {
      const event = this.#queue.shift();
      if (event === undefined) {
        this.#irqScheduled = false;
        return null;
      }
      switch (event.kind) {
        case 'bus-reset':
          this.#configured = false;
          this.#pending.clear();
          this.#stalled.clear();
          return event;
        case 'configured':
          this.#configured = event.configured;
          if (!event.configured) this.#pending.clear();
          return event;
        case 'xfer-complete':
          if (!this.#pending.delete(endpointKey(event.endpoint))) continue;
          return event;
        case 'control':
          // TinyUSB clears an endpoint's halt itself on the host's CLEAR_FEATURE(ENDPOINT_HALT) before the
          // request reaches the runtime device, so `stall(ep)` reads False afterwards.
          if (event.stage === 1 && isClearEndpointHalt(event.setup)) this.#stalled.delete(endpointKey(event.setup[4] ?? 0));
          return event;
      }
    }
  }

  /** The trampoline ended (also after an exception escaped it): the next event schedules it again. */
  irqDone(): void {
    this.#irqScheduled = false;
  }

  /**
   * Soft reset, before `MPY: soft reboot` (mp_usbd_deinit): an active runtime device leaves the bus;
   * the runtime device and its callbacks are dropped either way.
   */
  deinitForSoftReset(): void {
    if (this.#active && this.#bus !== null) this.#disconnect();
    this.#singleton = false;
    this.#active = false;
    this.#configured = false;
    this.#forgetTransfers();
    this.#irqHandler = null;
    this.#irqScheduled = false;
  }

  /**
   * After `boot.py` (mp_usbd_init): connects the built-in CDC unless the device is on the bus already
   * (a soft reset without a runtime device leaves the REPL port alone; a runtime device `boot.py`
   * activated is connected already). As in mp_usbd_init, once `USBDevice()` exists only an active
   * runtime device is connected: a `boot.py` that creates the singleton and leaves it inactive keeps
   * a device that is off the bus there.
   */
  initAfterBoot(): void {
    if (!this.nativeUsb || this.#bus !== null || this.#singleton) return;
    this.#connect({ builtin: 'cdc', runtime: null });
  }

  #connect(device: PresentedUsbDevice): void {
    this.#bus = device;
    this.#connections++;
    this.#configured = false;
    this.#send({ kind: 'connect', builtin: device.builtin, runtime: device.runtime });
  }

  /** tud_disconnect() and the 50 ms hold; transfers of the ended connection are forgotten. */
  #disconnect(): void {
    this.#bus = null;
    this.#configured = false;
    this.#forgetTransfers();
    this.#flushConsole();
    this.#send({ kind: 'disconnect' });
    const deadline = performance.now() + this.#holdMs;
    for (let left = this.#holdMs; left > 0; left = deadline - performance.now()) {
      Atomics.wait(this.#holdWord, 0, 0, left);
    }
  }

  /** Pending transfers, stall flags and events not yet taken: gone with the connection or the device. */
  #forgetTransfers(): void {
    this.#pending.clear();
    this.#stalled.clear();
    this.#queue.length = 0;
  }

  /** Moves waiting events of the current runtime connection into the queue; drops the others. */
  #pull(): void {
    if (this.#events.used() === 0) return;
    for (let tagged = this.#events.take(); tagged !== null; tagged = this.#events.take()) {
      if (tagged.connection === this.#connections && this.#active && this.#bus !== null) this.#queue.push(tagged.event);
    }
  }

  #send(message: UsbdFirmwareMessage): void {
    this.#post?.(message);
  }
}

/** A standard CLEAR_FEATURE(ENDPOINT_HALT) to an endpoint: bmRequestType 0x02, bRequest 1, wValue 0. */
function isClearEndpointHalt(setup: Uint8Array): boolean {
  return setup[0] === 0x02 && setup[1] === 0x01 && setup[2] === 0 && setup[3] === 0;
}
