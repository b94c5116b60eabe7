/**
 * A simulated USB 2.0 hub with boards on its ports. It is both halves of what a bench host sees: the
 * hub device (answering hub class requests — port power, port status — through a WebUSB-shaped
 * {@link UsbControlDevice}) and the host's view of what is plugged in (enumerated devices with
 * addresses and tty names, attach/detach events), which follows the boards: a native-USB ESP32-S3
 * re-enumerates whenever its identity changes (USB-Serial-JTAG ⇄ TinyUSB CDC), a board behind a
 * UART bridge stays enumerated across chip resets while its port has power. Devices that present
 * descriptors have them checked at enumeration (a refused device shows as `enumeration-failed`) and
 * can be opened for transfers ({@link SimUsbHub.openDevice}).
 */
import type { Logger } from 'pino';
import type { DiscoveredUsbDevice } from '../../runner/bench/usb-discovery.ts';
import type { UsbControlDevice } from '../../runner/usb/usb-control-device.ts';
import type { UsbTransferDevice } from '../../runner/usb/usb-transfer-device.ts';
import { systemClock, type BoardClock } from '../board/board-clock.ts';
import { ListenerSet } from '../board/listener-set.ts';
import type { UsbDeviceIdentity } from '../board/usb-identity.ts';
import { HubControlDevice, type ControlledHub } from './hub-control-device.ts';
import { HubPort, type HubTimings } from './hub-port.ts';
import { hubDescriptor, type PowerSwitching } from './hub-protocol.ts';
import type { SimUsbHotplugEvent } from './sim-hotplug-event.ts';
import { UsbHostNumbering } from './usb-host-numbering.ts';
import type { UsbPortAttachOptions, UsbPortDevice } from './usb-port-device.ts';

/**
 * The default hub: a D-Link DUB-H7 (silver edition), 7 ports, USB 2.0, VID:PID 2001:F103 — listed by
 * uhubctl (mvp/uhubctl README) among hubs that really switch power per port. The strings are the
 * names the public usb.ids database gives (what `lsusb` prints); whether the hub itself carries string
 * descriptors is not verified.
 */
export const DUB_H7_IDENTITY: Readonly<UsbDeviceIdentity> = Object.freeze({
  vid: 0x2001,
  pid: 0xf103,
  manufacturer: 'D-Link Corp.',
  product: 'DUB-H7 7-port USB 2.0 hub',
  serialNumber: null,
});

/** Defaults of {@link SimUsbHubOptions}. */
export const HUB_DEFAULTS = Object.freeze({
  powerSwitching: 'individual' as PowerSwitching,
  /** bPwrOn2PwrGood = 50 (2 ms units). */
  powerOnToPowerGoodMs: 100,
  /** USB 2.0 §7.1.7.3 connect debounce (100 ms) + port reset (10–20 ms) + address and descriptor reads. */
  enumerationDelayMs: 120,
  /** USB 2.0 §7.1.7.5: a hub drives reset for TDRST, 10 ms minimum on downstream ports. */
  portResetMs: 10,
  /** bHubContrCurrent; a plausible figure, not a measured one. */
  controllerCurrentMa: 100,
});

/** Construction options of {@link SimUsbHub}. */
export interface SimUsbHubOptions {
  /** Port path of the hub itself (its upstream port), e.g. `1-1`; devices are `<portPath>.<n>`. */
  portPath: string;
  /** Downstream ports, 1..15. */
  ports: number;
  /** Default `individual`. `none`: requests are accepted but VBUS never changes (ports always on). */
  powerSwitching?: PowerSwitching;
  /** Default 100; the descriptor's bPwrOn2PwrGood is this / 2, rounded up. 0..510. */
  powerOnToPowerGoodMs?: number;
  /** Default 120. */
  enumerationDelayMs?: number;
  /** Default 10. */
  portResetMs?: number;
  clock?: BoardClock;
  /** The hub's own device identity; default {@link DUB_H7_IDENTITY}. */
  identity?: UsbDeviceIdentity;
  /** Address and tty numbering shared with the other hubs of the same host; default: the hub's own. */
  numbering?: UsbHostNumbering;
  logger?: Logger;
}

const PORT_PATH = /^(\d+)-\d+(\.\d+)*$/;

/** One simulated hub (see the module note). */
export class SimUsbHub {
  readonly portPath: string;
  readonly portCount: number;
  readonly powerSwitching: PowerSwitching;
  readonly identity: Readonly<UsbDeviceIdentity>;
  /** The hub's own device address on its bus. */
  readonly address: number;
  readonly #bus: number;
  readonly #numbering: UsbHostNumbering;
  readonly #descriptor: Uint8Array;
  readonly #ports: readonly HubPort[];
  readonly #hotplug: ListenerSet<[SimUsbHotplugEvent]>;
  #idleWaiters: (() => void)[] = [];
  #disposed = false;

  /** RangeError for a malformed port path, a port count outside 1..15 or a negative delay. */
  constructor(options: SimUsbHubOptions) {
    const bus = PORT_PATH.exec(options.portPath)?.[1];
    if (bus === undefined) throw new RangeError(`"${options.portPath}" is not a USB port path (expected bus-port[.port...], e.g. 1-1)`);
    if (!Number.isInteger(options.ports) || options.ports < 1 || options.ports > 15) {
      throw new RangeError(`a USB 2.0 hub has 1 to 15 ports, got ${options.ports}`);
    }
    const timings: HubTimings = {
      powerOnToPowerGoodMs: options.powerOnToPowerGoodMs ?? HUB_DEFAULTS.powerOnToPowerGoodMs,
      enumerationDelayMs: options.enumerationDelayMs ?? HUB_DEFAULTS.enumerationDelayMs,
      portResetMs: options.portResetMs ?? HUB_DEFAULTS.portResetMs,
    };
    if (!(timings.powerOnToPowerGoodMs >= 0 && timings.powerOnToPowerGoodMs <= 510)) {
      throw new RangeError(`powerOnToPowerGoodMs must be 0..510 (bPwrOn2PwrGood is one byte of 2 ms units), got ${timings.powerOnToPowerGoodMs}`);
    }
    if (!(timings.enumerationDelayMs >= 0) || !(timings.portResetMs >= 0)) throw new RangeError('hub delays must not be negative');
    this.portPath = options.portPath;
    this.portCount = options.ports;
    this.powerSwitching = options.powerSwitching ?? HUB_DEFAULTS.powerSwitching;
    this.identity = Object.freeze({ ...(options.identity ?? DUB_H7_IDENTITY) });
    this.#bus = Number(bus);
    this.#numbering = options.numbering ?? new UsbHostNumbering();
    this.address = this.#numbering.reserveAddress(this.#bus);
    this.#descriptor = hubDescriptor({
      ports: this.portCount,
      powerSwitching: this.powerSwitching,
      powerOnToPowerGoodMs: timings.powerOnToPowerGoodMs,
      controllerCurrentMa: HUB_DEFAULTS.controllerCurrentMa,
    });
    const logger = options.logger?.child({ hub: options.portPath });
    this.#hotplug = new ListenerSet((err) => logger?.error({ err }, 'hot-plug listener threw'));
    const context = {
      clock: options.clock ?? systemClock,
      numbering: this.#numbering,
      bus: this.#bus,
      timings,
      logger,
      emit: (event: SimUsbHotplugEvent) => this.#hotplug.emit(event),
      activityChanged: () => this.#checkIdle(),
    };
    // A hub without power switching has VBUS on every port from the start.
    const alwaysPowered = this.powerSwitching === 'none';
    this.#ports = Array.from({ length: this.portCount }, (_, i) => new HubPort(context, i + 1, this.portPath, alwaysPowered));
  }

  /**
   * Plugs `device` into `port` (1-based). `options.url` gives it a tty and its serial endpoint in
   * listings. On a powered port the device gets power at once; otherwise it is kept off. RangeError
   * for a port the hub lacks or one already taken.
   */
  attach(port: number, device: UsbPortDevice, options: UsbPortAttachOptions = {}): void {
    this.#port(port).plug(device, options);
  }

  /** Pulls the device out of `port`: it loses power, the host sees a detach. */
  unplug(port: number): void {
    this.#port(port).unplug();
  }

  /** Whether the host sees the hub (false once disposed). */
  get present(): boolean {
    return !this.#disposed;
  }

  /** The device plugged into `port`, or null. */
  deviceAt(port: number): UsbPortDevice | null {
    return this.#port(port).device;
  }

  /** Whether `port` supplies VBUS. */
  isPortPowered(port: number): boolean {
    return this.#port(port).powered;
  }

  /**
   * Switches every port on, as the host's hub driver does when it configures a hub. No-op on a hub
   * without power switching (its ports are always on).
   */
  powerOnAllPorts(): void {
    if (this.powerSwitching === 'none') return;
    for (const port of this.#ports) port.setPower(true);
  }

  /** What the host has enumerated here: the hub itself first, then the devices by port. */
  list(): DiscoveredUsbDevice[] {
    if (this.#disposed) return [];
    const devices = this.#ports.map((port) => port.discovered()).filter((device) => device !== null);
    return [this.#self(), ...devices];
  }

  /**
   * Attach, detach and enumeration-failed events of the devices on this hub (times on the hub's
   * clock). Returns unsubscribe.
   */
  onHotplug(listener: (event: SimUsbHotplugEvent) => void): () => void {
    return this.#hotplug.add(listener);
  }

  /**
   * A new handle on the device enumerated at `portPath` (one of this hub's ports), or null when there
   * is none, it presents no descriptors, or the hub is gone.
   */
  openDevice(portPath: string): UsbTransferDevice | null {
    if (this.#disposed) return null;
    return this.#ports.find((port) => port.portPath === portPath)?.openDevice() ?? null;
  }

  /** A new handle on the hub's control endpoint, closed until `open()`. */
  controlDevice(): UsbControlDevice {
    return new HubControlDevice(this.#requestTarget());
  }

  /** Resolves once no power-good, port reset or enumeration is pending on any port. */
  whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops the hub's timers and stops following its devices; the devices keep their power state. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const port of this.#ports) port.dispose();
    this.#numbering.releaseAddress(this.#bus, this.address);
    this.#checkIdle();
  }

  #self(): DiscoveredUsbDevice {
    return {
      portPath: this.portPath,
      address: this.address,
      vendorId: this.identity.vid,
      productId: this.identity.pid,
      manufacturer: this.identity.manufacturer,
      product: this.identity.product,
      serialNumber: this.identity.serialNumber,
      isHub: true,
      serial: null,
    };
  }

  #port(port: number): HubPort {
    const hubPort = Number.isInteger(port) ? this.#ports[port - 1] : undefined;
    if (hubPort === undefined) throw new RangeError(`hub ${this.portPath} has ports 1-${this.portCount}, there is no port ${port}`);
    return hubPort;
  }

  /** The ports a power request switches: one, all (ganged), or none (no switching). */
  #powerGroup(port: number): readonly HubPort[] {
    switch (this.powerSwitching) {
      case 'individual':
        return [this.#port(port)];
      case 'ganged':
        return this.#ports;
      case 'none':
        return [];
    }
  }

  #isIdle(): boolean {
    return this.#disposed || this.#ports.every((port) => !port.busy);
  }

  #checkIdle(): void {
    if (this.#idleWaiters.length === 0 || !this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** What the control device acts on; kept off the hub's public surface. */
  #requestTarget(): ControlledHub {
    return {
      vendorId: this.identity.vid,
      productId: this.identity.pid,
      portCount: this.portCount,
      isPresent: () => !this.#disposed,
      descriptor: () => this.#descriptor.slice(),
      portStatus: (port) => this.#port(port).status(),
      switchPortPower: (port, on) => {
        for (const hubPort of this.#powerGroup(port)) hubPort.setPower(on);
      },
      resetPort: (port) => this.#port(port).startReset(),
      suspendPort: (port, on) => this.#port(port).setSuspended(on),
      disablePort: (port) => this.#port(port).disable(),
      clearPortChange: (port, bit) => this.#port(port).clearChange(bit),
    };
  }
}
