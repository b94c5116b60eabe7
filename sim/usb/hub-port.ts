/**
 * One downstream port of the simulated hub, together with what the USB host (a Linux kernel, as far
 * as names go) makes of the device on it: power (VBUS) to the device after power-good, connection
 * as the device presents an identity, enumeration (address, tty, attach event) after the connect
 * debounce, and a detach whenever the presented identity changes or goes away.
 */
import type { Logger } from 'pino';
import type { DiscoveredUsbDevice, UsbHotplugEvent } from '../../runner/bench/usb-discovery.ts';
import type { BoardClock, TimerHandle } from '../board/board-clock.ts';
import type { UsbDeviceIdentity } from '../board/usb-identity.ts';
import { PortChangeBit, PortStatusBit } from './hub-protocol.ts';
import { ttyFamilyOf, type UsbHostNumbering } from './usb-host-numbering.ts';
import type { UsbPortAttachOptions, UsbPortDevice } from './usb-port-device.ts';

/** Delays of a hub, in ms on its clock. */
export interface HubTimings {
  /** From switching a port on to VBUS being good (the device powers up then). */
  powerOnToPowerGoodMs: number;
  /** From a device connecting to the host having enumerated it: debounce, port reset, descriptor reads. */
  enumerationDelayMs: number;
  /** How long a port reset requested with SetPortFeature(PORT_RESET) lasts. */
  portResetMs: number;
}

/** What a port needs from its hub. */
export interface HubPortContext {
  readonly clock: BoardClock;
  readonly numbering: UsbHostNumbering;
  /** The USB bus the hub sits on (the number before the dash of its port path). */
  readonly bus: number;
  readonly timings: HubTimings;
  readonly logger: Logger | undefined;
  emit(event: UsbHotplugEvent): void;
  /** A timer of this port started or ended (the hub tracks when it is idle). */
  activityChanged(): void;
}

interface PluggedDevice {
  device: UsbPortDevice;
  options: UsbPortAttachOptions;
  unsubscribe: () => void;
}

/** A device as the host enumerated it. */
interface EnumeratedDevice {
  identity: UsbDeviceIdentity;
  address: number;
  tty: string | null;
  url: string | undefined;
  isSerialPortOpen: (() => boolean) | undefined;
}

/** One hub port (see the module note). */
export class HubPort {
  readonly number: number;
  /** Port path of a device on this port, e.g. `1-1.3`. */
  readonly portPath: string;
  readonly #context: HubPortContext;
  #plugged: PluggedDevice | null = null;
  #powered: boolean;
  #powerGoodTimer: TimerHandle | null = null;
  /** The identity on the wire (D+/D- pull-up plus descriptors); null = nothing connected. */
  #presented: UsbDeviceIdentity | null = null;
  #pending: { identity: UsbDeviceIdentity; timer: TimerHandle } | null = null;
  #enumerated: EnumeratedDevice | null = null;
  #enabled = false;
  #suspended = false;
  /** The host disabled the port (ClearPortFeature(PORT_ENABLE)); no enumeration until a reset or reconnect. */
  #disabledByHost = false;
  #resetTimer: TimerHandle | null = null;
  #changes = 0;
  #disposed = false;

  constructor(context: HubPortContext, number: number, hubPortPath: string, powered: boolean) {
    this.#context = context;
    this.number = number;
    this.portPath = `${hubPortPath}.${number}`;
    this.#powered = powered;
  }

  /** Whether the port supplies VBUS. */
  get powered(): boolean {
    return this.#powered;
  }

  /** True while a power-good, enumeration or reset timer runs. */
  get busy(): boolean {
    return this.#powerGoodTimer !== null || this.#pending !== null || this.#resetTimer !== null;
  }

  /** The device plugged into this port, if any. */
  get device(): UsbPortDevice | null {
    return this.#plugged?.device ?? null;
  }

  /** The device as the host lists it, or null when nothing is enumerated here. */
  discovered(): DiscoveredUsbDevice | null {
    const enumerated = this.#enumerated;
    if (enumerated === null) return null;
    const { identity } = enumerated;
    return {
      portPath: this.portPath,
      address: enumerated.address,
      vendorId: identity.vid,
      productId: identity.pid,
      manufacturer: identity.manufacturer,
      product: identity.product,
      serialNumber: identity.serialNumber,
      isHub: false,
      serial: enumerated.tty !== null && enumerated.url !== undefined ? { ttyPath: enumerated.tty, url: enumerated.url } : null,
    };
  }

  /** Plugs `device` in. On a powered port it gets power at once. RangeError when the port is taken. */
  plug(device: UsbPortDevice, options: UsbPortAttachOptions): void {
    if (this.#plugged !== null) throw new RangeError(`hub port ${this.portPath} already has a device plugged in`);
    const unsubscribe = device.onStateChange(() => this.#reconcile());
    this.#plugged = { device, options, unsubscribe };
    if (this.#powered) device.powerOn();
    else this.#cutDevicePower();
    this.#reconcile();
  }

  /** Pulls the device out: it loses power and the host sees it go. No-op on an empty port. */
  unplug(): void {
    const plugged = this.#plugged;
    if (plugged === null) return;
    this.#cancelPowerGood();
    plugged.unsubscribe();
    this.#cutDevicePower();
    this.#plugged = null;
    this.#reconcile();
  }

  /** Switches VBUS. The device powers up after power-good; it loses power at once. */
  setPower(on: boolean): void {
    if (on === this.#powered || this.#disposed) return;
    this.#powered = on;
    this.#context.logger?.info({ portPath: this.portPath, power: on }, 'hub port power');
    if (on) {
      if (this.#plugged !== null) {
        this.#powerGoodTimer = this.#context.clock.setTimeout(() => {
          this.#powerGoodTimer = null;
          this.#plugged?.device.powerOn();
          this.#reconcile();
          this.#context.activityChanged();
        }, this.#context.timings.powerOnToPowerGoodMs);
      }
    } else {
      this.#cancelPowerGood();
      this.#cancelReset();
      this.#enabled = false;
      this.#suspended = false;
      this.#cutDevicePower();
    }
    this.#reconcile();
    this.#context.activityChanged();
  }

  /** wPortStatus and wPortChange (USB 2.0 Tables 11-21, 11-22). */
  status(): { status: number; change: number } {
    const connected = this.#presented !== null;
    const speed = this.#plugged?.device.usbSpeed ?? 'full';
    let status = 0;
    if (connected) status |= PortStatusBit.CONNECTION;
    if (this.#enabled) status |= PortStatusBit.ENABLE;
    if (this.#suspended) status |= PortStatusBit.SUSPEND;
    if (this.#resetTimer !== null) status |= PortStatusBit.RESET;
    if (this.#powered) status |= PortStatusBit.POWER;
    if (connected && speed === 'low') status |= PortStatusBit.LOW_SPEED;
    if (connected && speed === 'high') status |= PortStatusBit.HIGH_SPEED;
    return { status, change: this.#changes };
  }

  /**
   * SetPortFeature(PORT_RESET): the reset bit shows for `portResetMs`, then the port is enabled (if a
   * device is connected) and C_PORT_RESET is set. A device the host had lost (port disabled) is
   * enumerated again. Ignored on an unpowered port or while a reset runs.
   */
  startReset(): void {
    if (!this.#powered || this.#resetTimer !== null || this.#disposed) return;
    this.#suspended = false;
    this.#resetTimer = this.#context.clock.setTimeout(() => {
      this.#resetTimer = null;
      this.#changes |= PortChangeBit.C_RESET;
      this.#enabled = this.#presented !== null;
      this.#disabledByHost = false;
      this.#reconcile();
      this.#context.activityChanged();
    }, this.#context.timings.portResetMs);
    this.#context.activityChanged();
  }

  /** SetPortFeature / ClearPortFeature(PORT_SUSPEND). Suspending needs an enabled port; resuming sets C_PORT_SUSPEND. */
  setSuspended(on: boolean): void {
    if (on && this.#enabled) this.#suspended = true;
    if (!on && this.#suspended) {
      this.#suspended = false;
      this.#changes |= PortChangeBit.C_SUSPEND;
    }
  }

  /** ClearPortFeature(PORT_ENABLE): the host can no longer reach the device, so it is gone until a reset. */
  disable(): void {
    this.#enabled = false;
    this.#suspended = false;
    if (this.#presented === null) return;
    this.#disabledByHost = true;
    this.#reconcile();
  }

  /** ClearPortFeature(C_PORT_*): acknowledges a change bit (a {@link PortChangeBit}). */
  clearChange(bit: number): void {
    this.#changes &= ~bit;
  }

  /** Stops timers and listening to the device; the device keeps its power state. */
  dispose(): void {
    this.#disposed = true;
    this.#cancelPowerGood();
    this.#cancelReset();
    this.#cancelPending();
    this.#plugged?.unsubscribe();
  }

  /**
   * Brings the host's view in line with what the device presents now: a different (or no) identity
   * detaches what was enumerated at once; a new one is enumerated after the enumeration delay if it
   * still holds then. Idempotent; runs on every device state change and port change.
   */
  #reconcile(): void {
    if (this.#disposed) return;
    const current = this.#powered ? (this.#plugged?.device.usbIdentity ?? null) : null;
    if (!sameIdentity(current, this.#presented)) {
      // The device dropped off the bus, came on, or re-attached with another identity (0 → 1 as well).
      this.#changes |= PortChangeBit.C_CONNECTION;
      this.#presented = current === null ? null : { ...current };
      this.#enabled = false;
      this.#suspended = false;
      this.#disabledByHost = false;
    }
    const enumerated = this.#enumerated;
    if (enumerated !== null && (this.#disabledByHost || !sameIdentity(enumerated.identity, current))) this.#forget(enumerated);
    if (current === null || this.#disabledByHost || this.#enumerated !== null) {
      this.#cancelPending();
      return;
    }
    if (this.#pending !== null && sameIdentity(this.#pending.identity, current)) return;
    this.#cancelPending();
    const identity = { ...current };
    const timer = this.#context.clock.setTimeout(() => {
      this.#pending = null;
      this.#enumerate(identity);
      this.#context.activityChanged();
    }, this.#context.timings.enumerationDelayMs);
    this.#pending = { identity, timer };
    this.#context.activityChanged();
  }

  #enumerate(identity: UsbDeviceIdentity): void {
    const { numbering, bus } = this.#context;
    const options = this.#plugged?.options ?? {};
    const address = numbering.reserveAddress(bus);
    const tty = options.url === undefined ? null : numbering.claimTty(ttyFamilyOf(identity));
    this.#enabled = true;
    this.#enumerated = { identity, address, tty, url: options.url, isSerialPortOpen: options.isSerialPortOpen };
    const device = this.discovered();
    this.#context.logger?.info({ portPath: this.portPath, address, tty, vid: identity.vid, pid: identity.pid }, 'USB device enumerated');
    if (device !== null) this.#context.emit({ type: 'attach', atMs: this.#context.clock.now(), device });
  }

  #forget(enumerated: EnumeratedDevice): void {
    const { numbering, bus } = this.#context;
    this.#enumerated = null;
    numbering.releaseAddress(bus, enumerated.address);
    if (enumerated.tty !== null) numbering.releaseTty(enumerated.tty, enumerated.isSerialPortOpen);
    this.#context.logger?.info({ portPath: this.portPath, address: enumerated.address, tty: enumerated.tty }, 'USB device disconnected');
    this.#context.emit({ type: 'detach', atMs: this.#context.clock.now(), portPath: this.portPath });
  }

  /** Removes VBUS from the device; its state change (if any) arrives through the listener. */
  #cutDevicePower(): void {
    const device = this.#plugged?.device;
    if (device === undefined) return;
    try {
      const stopped = device.powerOff();
      if (stopped instanceof Promise) stopped.catch((err: unknown) => this.#context.logger?.error({ err, portPath: this.portPath }, 'device failed to power off'));
    } catch (err: unknown) {
      this.#context.logger?.error({ err, portPath: this.portPath }, 'device failed to power off');
    }
  }

  #cancelPowerGood(): void {
    if (this.#powerGoodTimer !== null) this.#context.clock.clearTimeout(this.#powerGoodTimer);
    this.#powerGoodTimer = null;
  }

  #cancelReset(): void {
    if (this.#resetTimer !== null) this.#context.clock.clearTimeout(this.#resetTimer);
    this.#resetTimer = null;
  }

  #cancelPending(): void {
    if (this.#pending !== null) this.#context.clock.clearTimeout(this.#pending.timer);
    this.#pending = null;
  }
}

/** Same descriptor contents as far as the host can tell (VID, PID, strings). */
export function sameIdentity(a: UsbDeviceIdentity | null, b: UsbDeviceIdentity | null): boolean {
  if (a === null || b === null) return a === b;
  return a.vid === b.vid && a.pid === b.pid && a.manufacturer === b.manufacturer && a.product === b.product && a.serialNumber === b.serialNumber;
}
