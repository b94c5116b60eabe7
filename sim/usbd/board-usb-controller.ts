/**
 * A native-USB board's USB-OTG peripheral with MicroPython's TinyUSB device stack, as the bus sees
 * it: one per ESP32-S2/S3 board, owned by `SimBoard`. While MicroPython runs, the device is off the
 * bus until the firmware's `connect` (then it presents the built-in CDC or the runtime device it was
 * given), leaves on `disconnect` or when the firmware detaches (interpreter stopped), and comes back as
 * a new attachment on the next `connect` — the host sees `active(False)`/`active(True)` as an unplug
 * and a replug even with identical descriptors. An interpreter that never drives the stack (a firmware
 * without `machine.USBDevice`, the fake interpreters of tests) gets the built-in CDC once it is up, as
 * `mp_usbd_init` would present it. Outside MicroPython (ROM, reset, off) the peripheral is off the bus;
 * the board shows the ROM's USB-Serial-JTAG itself.
 */
import type { Logger } from 'pino';
import { systemClock, type BoardClock } from '../board/board-clock.ts';
import { ListenerSet } from '../board/listener-set.ts';
import type { UsbPresentation } from '../usb/usb-port-device.ts';
import type { BoardUsbPort, BuiltinDriver, RuntimeUsbConfig, UsbdFirmwareEvent, UsbdFirmwareMessage } from './board-usb-port.ts';
import { builtinCdcDevice } from './builtin-cdc-device.ts';
import { presentBuiltinCdc, presentRuntimeDevice } from './presented-device.ts';
import { UsbdConnection } from './usbd-connection.ts';

/** Linux's USB_CTRL_GET_TIMEOUT / USB_CTRL_SET_TIMEOUT: 5 s per control transfer. */
export const DEFAULT_CONTROL_TIMEOUT_MS = 5000;

/** Construction options of {@link BoardUsbController}. */
export interface BoardUsbControllerOptions {
  /** Factory MAC, 6 bytes: the built-in CDC's serial number derives from it (v1.24+). */
  mac: Uint8Array;
  clock?: BoardClock;
  /** How long the host waits for the firmware at each control-transfer stage; default {@link DEFAULT_CONTROL_TIMEOUT_MS}. */
  controlTimeoutMs?: number;
  logger?: Logger;
}

/** The firmware attached now. */
interface Attachment {
  sink: (event: UsbdFirmwareEvent) => void;
}

/** The controller (see the module note). */
export class BoardUsbController implements BoardUsbPort {
  readonly #mac: Uint8Array;
  readonly #clock: BoardClock;
  readonly #controlTimeoutMs: number;
  readonly #logger: Logger | undefined;
  readonly #changeListeners: ListenerSet<[]>;
  /** The MicroPython version running, null outside MicroPython. */
  #firmwareVersion: string | null = null;
  /** Whether a firmware attached during this run (then it alone decides what is on the bus). */
  #driven = false;
  #attachment: Attachment | null = null;
  #connection: UsbdConnection | null = null;
  #presentation: UsbPresentation | null = null;
  #generation = 0;
  #controlIds = 0;

  constructor(options: BoardUsbControllerOptions) {
    if (options.mac.length !== 6) throw new RangeError(`MAC must be 6 bytes, got ${options.mac.length}`);
    this.#mac = options.mac.slice();
    this.#clock = options.clock ?? systemClock;
    this.#controlTimeoutMs = options.controlTimeoutMs ?? DEFAULT_CONTROL_TIMEOUT_MS;
    this.#logger = options.logger?.child({ usb: 'device' });
    this.#changeListeners = new ListenerSet((err) => this.#logger?.error({ err }, 'USB change listener threw'));
  }

  /** What the device presents on the bus now; null while it is off the bus. A new object per connection. */
  get presentation(): UsbPresentation | null {
    return this.#presentation;
  }

  /** The current connection (device side of the bus), for tests and diagnostics; null off the bus. */
  get connection(): UsbdConnection | null {
    return this.#connection;
  }

  /** Calls `listener` whenever {@link presentation} changes. Returns unsubscribe. */
  onChange(listener: () => void): () => void {
    return this.#changeListeners.add(listener);
  }

  // ---- the board's side ----

  /** MicroPython `firmwareVersion` starts booting: off the bus until the firmware connects (or {@link runStarted}). */
  startRun(firmwareVersion: string): void {
    this.endRun();
    this.#firmwareVersion = firmwareVersion;
  }

  /** The interpreter is up: without a firmware driving the stack, the built-in CDC appears now. */
  runStarted(): void {
    if (this.#firmwareVersion === null || this.#driven || this.#connection !== null) return;
    this.#connect('cdc', null);
  }

  /** The chip stops running MicroPython (reset, power off, bootloader): off the bus, firmware detached. */
  endRun(): void {
    this.#attachment = null;
    this.#driven = false;
    this.#firmwareVersion = null;
    this.#disconnect();
  }

  // ---- BoardUsbPort (the firmware's side) ----

  attachFirmware(sink: (event: UsbdFirmwareEvent) => void): () => void {
    // From now on this firmware alone decides what is on the bus (a late attach replaces the fallback CDC).
    this.#disconnect();
    const attachment: Attachment = { sink };
    this.#attachment = attachment;
    this.#driven = true;
    return () => {
      if (this.#attachment !== attachment) return;
      this.#attachment = null;
      this.#disconnect();
    };
  }

  fromFirmware(message: UsbdFirmwareMessage): void {
    if (this.#attachment === null) {
      this.#logger?.debug({ kind: message.kind }, 'USB message without an attached firmware ignored');
      return;
    }
    switch (message.kind) {
      case 'connect':
        if (this.#firmwareVersion === null) {
          this.#logger?.warn('tud_connect outside a MicroPython run ignored');
          return;
        }
        this.#connect(message.builtin, message.runtime);
        break;
      case 'disconnect':
        this.#disconnect();
        break;
      default:
        this.#connection?.fromFirmware(message);
    }
  }

  // ---- connections ----

  #connect(builtin: BuiltinDriver, runtime: RuntimeUsbConfig | null): void {
    this.#connection?.end();
    const builtinDevice = builtinCdcDevice(this.#mac, this.#firmwareVersion ?? '');
    const device = runtime === null ? presentBuiltinCdc(builtinDevice) : presentRuntimeDevice(builtinDevice, builtin, runtime);
    const connection = new UsbdConnection({
      clock: this.#clock,
      controlTimeoutMs: this.#controlTimeoutMs,
      logger: this.#logger,
      toFirmware: (event) => {
        if (this.#connection === connection) this.#toFirmware(event);
      },
      nextControlId: () => ++this.#controlIds,
    }, device);
    this.#connection = connection;
    this.#generation++;
    this.#presentation = {
      generation: this.#generation,
      identity: device.identity,
      makesTty: device.makesTty,
      descriptors: { device: device.deviceDescriptor, configuration: device.configurationDescriptor, string: (index) => device.string(index) },
      bus: connection,
    };
    this.#logger?.info({ generation: this.#generation, runtime: runtime !== null, builtin, vid: device.identity.vid, pid: device.identity.pid }, 'USB device connects');
    this.#changeListeners.emit();
  }

  #disconnect(): void {
    const connection = this.#connection;
    if (connection === null) return;
    this.#connection = null;
    this.#presentation = null;
    connection.end();
    this.#logger?.info('USB device disconnects');
    this.#changeListeners.emit();
  }

  #toFirmware(event: UsbdFirmwareEvent): void {
    const attachment = this.#attachment;
    if (attachment === null) return;
    try {
      attachment.sink(event);
    } catch (err: unknown) {
      this.#logger?.error({ err, kind: event.kind }, 'firmware USB event sink threw');
    }
  }
}
