/**
 * One downstream port of the simulated hub, together with what the USB host (a Linux kernel, as far
 * as names go) makes of the device on it: power (VBUS) to the device after power-good, connection
 * as the device presents itself, enumeration after the connect debounce — a bus reset, the
 * descriptors read and checked (a device the host refuses is not enumerated, and says so with an
 * `enumeration-failed` event), address, tty, SET_CONFIGURATION, attach event — and a detach whenever
 * the presentation changes (a new connection, even with the same descriptors) or goes away.
 */
import type { Logger } from 'pino';
import type { DiscoveredUsbDevice } from '../../runner/bench/usb-discovery.ts';
import { encodeSetupPacket } from '../../runner/usb/usb-control-device.ts';
import type { UsbTransferDevice } from '../../runner/usb/usb-transfer-device.ts';
import type { BoardClock, TimerHandle } from '../board/board-clock.ts';
import type { UsbDeviceIdentity } from '../board/usb-identity.ts';
import { enumerateDescriptors } from './host-enumeration.ts';
import { HostDeviceSession } from './host-device-session.ts';
import { HostTransferDevice } from './host-transfer-device.ts';
import { PortChangeBit, PortStatusBit } from './hub-protocol.ts';
import { hasAcmControl } from './kernel-drivers.ts';
import type { SimUsbHotplugEvent } from './sim-hotplug-event.ts';
import { ttyFamilyOf, type TtyFamily, type UsbHostNumbering } from './usb-host-numbering.ts';
import { presentationOf, type UsbPortAttachOptions, type UsbPortDevice, type UsbPresentation } from './usb-port-device.ts';

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
  emit(event: SimUsbHotplugEvent): void;
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
  presentation: UsbPresentation;
  /** What the host read (for descriptor devices, from the descriptors and strings). */
  identity: UsbDeviceIdentity;
  address: number;
  tty: string | null;
  url: string | undefined;
  isSerialPortOpen: (() => boolean) | undefined;
  /** For devices with descriptors and a bus: what programs open. */
  session: HostDeviceSession | null;
}

/** Standard request SET_CONFIGURATION (USB 2.0 Table 9-4). */
const SET_CONFIGURATION = 0x09;

/** One hub port (see the module note). */
export class HubPort {
  readonly number: number;
  /** Port path of a device on this port, e.g. `1-1.3`. */
  readonly portPath: string;
  readonly #context: HubPortContext;
  #plugged: PluggedDevice | null = null;
  #powered: boolean;
  #powerGoodTimer: TimerHandle | null = null;
  /** What is on the wire (D+/D- pull-up plus descriptors); null = nothing connected. */
  #presented: UsbPresentation | null = null;
  #pending: { presentation: UsbPresentation; timer: TimerHandle } | null = null;
  #enumerated: EnumeratedDevice | null = null;
  /** The presentation the host refused; not retried until it changes or the port is reset. */
  #refused: UsbPresentation | null = null;
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

  /**
   * A new handle on the device enumerated here, for descriptor reads and transfers; null when nothing
   * is enumerated or the device presents no descriptors (identity-only devices: UART bridges, the ROM's
   * USB-Serial-JTAG).
   */
  openDevice(): UsbTransferDevice | null {
    const session = this.#enumerated?.session ?? null;
    return session === null ? null : new HostTransferDevice(session);
  }

  /** Plugs `device` in. On a powered port it gets power at once. RangeError when the port is taken. */
  plug(device: UsbPortDevice, options: UsbPortAttachOptions): void {
    if (this.#plugged !== null) throw new RangeError(`hub port ${this.portPath} already has a device plugged in`);
    const offState = device.onStateChange(() => this.#reconcile());
    const offUsb = device.onUsbChange?.(() => this.#reconcile());
    const unsubscribe = (): void => {
      offState();
      offUsb?.();
    };
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
    // The device sees SE0 now: it drops its configuration and whatever transfers were pending.
    this.#presented?.bus?.reset();
    this.#resetTimer = this.#context.clock.setTimeout(() => {
      this.#resetTimer = null;
      this.#changes |= PortChangeBit.C_RESET;
      this.#enabled = this.#presented !== null;
      this.#disabledByHost = false;
      this.#refused = null;
      // A device that stays enumerated gets its configuration back, as after Linux's usb_reset_device.
      const session = this.#enumerated?.session;
      if (session?.present === true) this.#configure(session);
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
    this.#enumerated?.session?.end();
    this.#plugged?.unsubscribe();
  }

  /**
   * Brings the host's view in line with what the device presents now: a different (or no)
   * presentation detaches what was enumerated at once; a new one is enumerated after the enumeration
   * delay if it still holds then. Idempotent; runs on every device state change and port change.
   */
  #reconcile(): void {
    if (this.#disposed) return;
    const device = this.#plugged?.device;
    const current = this.#powered && device !== undefined ? snapshot(presentationOf(device)) : null;
    if (!samePresentation(current, this.#presented)) {
      // The device dropped off the bus, came on, or re-attached (0 → 1 as well).
      this.#changes |= PortChangeBit.C_CONNECTION;
      this.#presented = current;
      this.#enabled = false;
      this.#suspended = false;
      this.#disabledByHost = false;
      this.#refused = null;
    }
    const enumerated = this.#enumerated;
    if (enumerated !== null && (this.#disabledByHost || !samePresentation(enumerated.presentation, current))) this.#forget(enumerated);
    if (current === null || this.#disabledByHost || this.#enumerated !== null || this.#refused !== null) {
      this.#cancelPending();
      return;
    }
    if (this.#pending !== null && samePresentation(this.#pending.presentation, current)) return;
    this.#cancelPending();
    const timer = this.#context.clock.setTimeout(() => {
      this.#pending = null;
      this.#enumerate(current);
      this.#context.activityChanged();
    }, this.#context.timings.enumerationDelayMs);
    this.#pending = { presentation: current, timer };
    this.#context.activityChanged();
  }

  #enumerate(presentation: UsbPresentation): void {
    const { numbering, bus, logger } = this.#context;
    const options = this.#plugged?.options ?? {};
    const address = numbering.reserveAddress(bus);
    this.#enabled = true;
    // The reset before SET_ADDRESS: the device's stack hears it (TinyUSB calls its drivers' reset).
    presentation.bus?.reset();
    let identity = presentation.identity;
    let session: HostDeviceSession | null = null;
    let family: TtyFamily = ttyFamilyOf(identity);
    if (presentation.descriptors !== undefined) {
      const read = enumerateDescriptors(presentation.descriptors, this.#plugged?.device.usbSpeed ?? 'full');
      if (!read.ok) {
        numbering.releaseAddress(bus, address);
        this.#refused = presentation;
        logger?.warn({ portPath: this.portPath, reason: read.reason, codes: read.codes }, `usb ${this.portPath}: device not accepted, can't set config: ${read.reason}`);
        this.#context.emit({ type: 'enumeration-failed', atMs: this.#context.clock.now(), portPath: this.portPath, reason: read.reason, codes: read.codes });
        return;
      }
      identity = read.identity;
      if (hasAcmControl(read.configuration)) family = 'ttyACM';
      if (presentation.bus !== undefined) session = new HostDeviceSession(presentation.bus, read.device, read.configuration);
    }
    const tty = options.url === undefined || !presentation.makesTty ? null : numbering.claimTty(family);
    this.#enumerated = { presentation, identity, address, tty, url: options.url, isSerialPortOpen: options.isSerialPortOpen, session };
    // As Linux's generic driver: select the first configuration before the device is announced.
    if (session !== null) this.#configure(session);
    const device = this.discovered();
    logger?.info({ portPath: this.portPath, address, tty, vid: identity.vid, pid: identity.pid }, 'USB device enumerated');
    if (device !== null) this.#context.emit({ type: 'attach', atMs: this.#context.clock.now(), device });
  }

  /** SET_CONFIGURATION(bConfigurationValue of the one configuration); a refusal is logged as the kernel does. */
  #configure(session: HostDeviceSession): void {
    const value = session.configuration.configurationValue;
    const setup = encodeSetupPacket('out', { requestType: 'standard', recipient: 'device', request: SET_CONFIGURATION, value, index: 0 }, 0);
    const fail = (why: string): void => {
      this.#context.logger?.warn({ portPath: this.portPath, configuration: value }, `usb ${this.portPath}: can't set config #${value}, ${why}`);
    };
    session.bus.controlOut(setup, new Uint8Array(0), session.signal).then(
      (result) => (result.status === 'ok' ? session.configurationSelected(value) : fail(`the device answered ${result.status}`)),
      (err: unknown) => {
        if (session.present) fail(err instanceof Error ? err.message : String(err));
      },
    );
  }

  #forget(enumerated: EnumeratedDevice): void {
    const { numbering, bus } = this.#context;
    this.#enumerated = null;
    enumerated.session?.end();
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

/** The same attachment: same connection generation and the same identity (VID, PID, strings). */
export function samePresentation(a: UsbPresentation | null, b: UsbPresentation | null): boolean {
  if (a === null || b === null) return a === b;
  return a.generation === b.generation && sameIdentity(a.identity, b.identity);
}

/** A copy that later changes on the device's side cannot alter (identity objects may be reused). */
function snapshot(presentation: UsbPresentation | null): UsbPresentation | null {
  return presentation === null ? null : { ...presentation, identity: { ...presentation.identity } };
}
