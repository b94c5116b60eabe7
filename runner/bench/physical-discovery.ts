/**
 * Bench discovery on a physical host: USB topology from the `usb` package (loaded on first use), each
 * device's tty from sysfs (`/sys/class/tty/<name>/device` resolves into the device's port path), and
 * `serialport`'s list as the fallback where there is no sysfs. A host without a USB view — a container
 * without `/sys/bus/usb`, a missing native binding, no `udevadm` — gets a listing that says why, never
 * an exception (DESIGN.md layer 1).
 */
import { silentLogger, type Logger } from '../logger.ts';
import { sleep, systemClock, type Clock } from '../repl/clock.ts';
import type { UsbControlDevice } from '../usb/usb-control-device.ts';
import type { UsbTransferDevice } from '../usb/usb-transfer-device.ts';
import { WebUsbTransferDevice, type WebUsbTransferDeviceOptions } from '../usb/webusb-transfer-device.ts';
import { loadWebUsbSource, webUsbHubDevice, type HostUsbConnectionEvent, type HostUsbDevice, type HostUsbSource } from '../usb/webusb-source.ts';
import { comparePortPaths, HUB_DEVICE_CLASS, portPathOf, serialNumberOf, toDiscoveredDevice } from './physical-device.ts';
import { listSerialportPorts, matchSerialPorts, type SerialPortLister } from './physical-serial-ports.ts';
import { NodeSysfsReader, type SysfsReader } from './sysfs-reader.ts';
import { readSysfsTtys, ttyByPortPath } from './sysfs-tty-map.ts';
import type { BenchDiscovery, DiscoverySnapshot, UsbHotplugEvent } from './usb-discovery.ts';

export interface PhysicalDiscoveryOptions {
  /** Loads the USB device source. Default: the `usb` package's WebUSB object, imported on first use. */
  loadUsb?: () => Promise<HostUsbSource>;
  /** sysfs for the "is there a USB bus" check and tty lookup. Default: `/sys` on Linux, none elsewhere. */
  sysfs?: SysfsReader | null;
  /** Serial port list for the tty lookup where sysfs has no `class/tty`. Default: `serialport`'s; null: none. */
  listSerialPorts?: SerialPortLister | null;
  /** Where tty names live. Default `/dev`. */
  devDir?: string;
  /** Time source for event timestamps and the tty wait. Default: the process clock. */
  clock?: Clock;
  /**
   * How long an attach event waits for the kernel to create the device's tty (the driver binds a moment
   * after the device appears), ms. Default 2000. Hubs do not wait.
   */
  ttyWaitMs?: number;
  /** How often the tty is looked for during that wait, ms. Default 50. */
  ttyPollMs?: number;
  logger?: Logger;
  /** Timeouts the `usb` package is given for devices opened with `openDevice` (webusb-transfer-device.ts). */
  deviceTransfers?: WebUsbTransferDeviceOptions;
}

const NO_USB = 'no USB bus visible';

type Enumeration = { devices: HostUsbDevice[] } | { problem: string };

export class PhysicalDiscovery implements BenchDiscovery {
  readonly #loadUsb: () => Promise<HostUsbSource>;
  readonly #sysfs: SysfsReader | null;
  readonly #listSerialPorts: SerialPortLister | null;
  readonly #devDir: string;
  readonly #clock: Clock;
  readonly #ttyWaitMs: number;
  readonly #ttyPollMs: number;
  readonly #logger: Logger;
  readonly #deviceTransfers: WebUsbTransferDeviceOptions;
  #source: Promise<HostUsbSource> | null = null;
  readonly #listeners = new Set<(event: UsbHotplugEvent) => void>();
  /** The source we are subscribed to, or null. */
  #watching: HostUsbSource | null = null;
  /** Hot-plug events are emitted in arrival order even though an attach waits for its tty. */
  #eventQueue: Promise<void> = Promise.resolve();
  /** Attach events still waiting for their tty, by port path: aborting the entry ends the wait. */
  readonly #pendingAttaches = new Map<string, AbortController>();
  #closed = false;

  constructor(options: PhysicalDiscoveryOptions = {}) {
    this.#loadUsb = options.loadUsb ?? loadWebUsbSource;
    this.#sysfs = options.sysfs !== undefined ? options.sysfs : process.platform === 'linux' ? new NodeSysfsReader() : null;
    this.#listSerialPorts = options.listSerialPorts !== undefined ? options.listSerialPorts : listSerialportPorts;
    this.#devDir = options.devDir ?? '/dev';
    this.#clock = options.clock ?? systemClock;
    this.#ttyWaitMs = options.ttyWaitMs ?? 2000;
    this.#ttyPollMs = options.ttyPollMs ?? 50;
    this.#logger = options.logger ?? silentLogger();
    this.#deviceTransfers = options.deviceTransfers ?? {};
  }

  /** What is enumerated now, sorted by port path. Never rejects: a host without USB gets `problem`. */
  async list(): Promise<DiscoverySnapshot> {
    try {
      const enumeration = await this.#enumerate();
      if ('problem' in enumeration) return { devices: [], problem: enumeration.problem };
      const ttys = await this.#ttyPaths(enumeration.devices);
      const devices = enumeration.devices.map((device) => toDiscoveredDevice(device, ttys.get(portPathOf(device)) ?? null));
      return { devices: devices.sort((a, b) => comparePortPaths(a.portPath, b.portPath)) };
    } catch (err: unknown) {
      return { devices: [], problem: `${NO_USB}: ${messageOf(err)}` };
    }
  }

  onHotplug(listener: (event: UsbHotplugEvent) => void): () => void {
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) void this.#startWatching();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#stopWatching();
    };
  }

  /**
   * The hub at `portPath` as a control device (not opened), or null when no hub is enumerated there —
   * including when the host has no USB view, or a non-hub device sits at that path.
   */
  async openHub(portPath: string): Promise<UsbControlDevice | null> {
    const device = await this.#deviceAt(portPath);
    return device?.deviceClass === HUB_DEVICE_CLASS ? webUsbHubDevice(device) : null;
  }

  /**
   * The device at `portPath` (hubs included) as a WebUSB-behaving transfer device (not opened), or
   * null when nothing is enumerated there — including when the host has no USB view.
   */
  async openDevice(portPath: string): Promise<UsbTransferDevice | null> {
    const device = await this.#deviceAt(portPath);
    return device ? new WebUsbTransferDevice(device, this.#deviceTransfers) : null;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    this.#stopWatching();
    for (const pending of this.#pendingAttaches.values()) pending.abort();
    await this.#eventQueue;
  }

  /** The enumerated device at `portPath`, or null (also when the host has no USB view). */
  async #deviceAt(portPath: string): Promise<HostUsbDevice | null> {
    const enumeration = await this.#enumerate().catch(() => ({ problem: 'enumeration failed' }));
    if ('problem' in enumeration) return null;
    return enumeration.devices.find((device) => portPathOf(device) === portPath) ?? null;
  }

  /** Devices from the USB source, or why there are none. */
  async #enumerate(): Promise<Enumeration> {
    // Checked first so a Linux host without a USB bus (a container) never loads the native module.
    if (this.#sysfs !== null && !(await this.#sysfs.exists('bus/usb'))) {
      return { problem: `${NO_USB}: ${this.#sysfs.pathOf('bus/usb')} not found` };
    }
    let source: HostUsbSource;
    try {
      source = await this.#usbSource();
    } catch (err: unknown) {
      return { problem: `${NO_USB}: the usb package could not be loaded: ${messageOf(err)}` };
    }
    try {
      return { devices: await source.getDevices() };
    } catch (err: unknown) {
      // The package prefixes its errors with the method name; the user needs the reason.
      return { problem: `${NO_USB}: ${messageOf(err).replace(/^getDevices error: /, '')}` };
    }
  }

  #usbSource(): Promise<HostUsbSource> {
    // A binding that failed to load will not load later in this process, so the failure is kept too.
    this.#source ??= Promise.resolve().then(() => this.#loadUsb());
    return this.#source;
  }

  /** Port path → tty path for `devices`: from sysfs when it has `class/tty`, else from the serial port list. */
  async #ttyPaths(devices: readonly HostUsbDevice[]): Promise<Map<string, string>> {
    return (await this.#sysfsTtyPaths()) ?? this.#listedTtyPaths(devices);
  }

  /** Port path → tty path of every USB tty in sysfs; null when there is no sysfs `class/tty` here. */
  async #sysfsTtyPaths(): Promise<Map<string, string> | null> {
    const ttys = this.#sysfs ? await readSysfsTtys(this.#sysfs) : null;
    if (ttys === null) return null;
    return new Map([...ttyByPortPath(ttys)].map(([portPath, name]) => [portPath, `${this.#devDir}/${name}`]));
  }

  /** Port path → tty path from the serial port list, matched against all of `devices` (see matchSerialPorts). */
  async #listedTtyPaths(devices: readonly HostUsbDevice[]): Promise<Map<string, string>> {
    if (this.#listSerialPorts === null) return new Map();
    const lister = this.#listSerialPorts;
    try {
      // Promise.resolve().then: a lister that throws synchronously is caught like one that rejects.
      const ports = await Promise.resolve().then(() => lister());
      const candidates = devices.filter((device) => device.deviceClass !== HUB_DEVICE_CLASS).map((device) => ({
        portPath: portPathOf(device), vendorId: device.vendorId, productId: device.productId, serialNumber: serialNumberOf(device),
      }));
      return matchSerialPorts(candidates, ports);
    } catch (err: unknown) {
      // Without udevadm, serialport's list rejects with a spawn ENOENT: devices are still listed, without ttys.
      this.#logger.warn({ err }, `serial port list failed, devices are listed without ttys: ${messageOf(err)}`);
      return new Map();
    }
  }

  /**
   * Subscribes to the source's connect/disconnect events — only once a listing has worked: usb 3.1.0's
   * addEventListener starts a device listing and a native watcher whose failures it does not catch
   * (an unhandled rejection and a re-thrown error in a timer), which would end the process on a host
   * without a USB bus. Seen in this container; see node_modules/usb/dist/index.js `addEventListener`.
   */
  async #startWatching(): Promise<void> {
    const enumeration = await this.#enumerate().catch((err: unknown) => ({ problem: messageOf(err) }));
    if ('problem' in enumeration) {
      this.#logger.warn(`no hot-plug events: ${enumeration.problem}`);
      return;
    }
    const source = await this.#usbSource();
    // Listeners may have left (or another start won) while the package loaded and listed.
    if (this.#closed || this.#listeners.size === 0 || this.#watching !== null) return;
    try {
      source.addEventListener('connect', this.#onConnect);
      source.addEventListener('disconnect', this.#onDisconnect);
      this.#watching = source;
    } catch (err: unknown) {
      this.#logger.warn({ err }, `no hot-plug events: ${messageOf(err)}`);
    }
  }

  #stopWatching(): void {
    const source = this.#watching;
    if (source === null) return;
    this.#watching = null;
    source.removeEventListener('connect', this.#onConnect);
    source.removeEventListener('disconnect', this.#onDisconnect);
  }

  readonly #onConnect = (event: HostUsbConnectionEvent): void => {
    const atMs = this.#clock.now();
    const device = event.device;
    const portPath = portPathOf(device);
    const wait = new AbortController();
    this.#pendingAttaches.get(portPath)?.abort();
    this.#pendingAttaches.set(portPath, wait);
    this.#enqueue(async () => {
      const ttyPath = device.deviceClass === HUB_DEVICE_CLASS ? null : await this.#waitForTty(device, wait.signal);
      if (this.#pendingAttaches.get(portPath) === wait) this.#pendingAttaches.delete(portPath);
      this.#emit({ type: 'attach', atMs, device: toDiscoveredDevice(device, ttyPath) });
    });
  };

  readonly #onDisconnect = (event: HostUsbConnectionEvent): void => {
    const atMs = this.#clock.now();
    const portPath = portPathOf(event.device);
    // A device that leaves while its attach waits for a tty will not get one.
    this.#pendingAttaches.get(portPath)?.abort();
    this.#enqueue(async () => this.#emit({ type: 'detach', atMs, portPath }));
  };

  /** The tty of a just-attached device, polling until it appears, the wait ends, or `signal` fires. */
  async #waitForTty(device: HostUsbDevice, signal: AbortSignal): Promise<string | null> {
    const portPath = portPathOf(device);
    const deadline = this.#clock.now() + this.#ttyWaitMs;
    for (;;) {
      const ttys = (await this.#sysfsTtyPaths()) ?? (await this.#listedTtyPaths(await this.#devicesAround(device)));
      const found = ttys.get(portPath) ?? null;
      if (found !== null || signal.aborted || this.#clock.now() >= deadline) return found;
      try {
        await sleep(this.#clock, Math.min(this.#ttyPollMs, deadline - this.#clock.now()), signal);
      } catch {
        return null;
      }
    }
  }

  /**
   * Everything enumerated, including `device`: matching by VID/PID/serial must see the other boards,
   * or two boards with the same serial string would each look unique.
   */
  async #devicesAround(device: HostUsbDevice): Promise<HostUsbDevice[]> {
    const enumeration = await this.#enumerate().catch(() => ({ devices: [] }));
    const devices = 'devices' in enumeration ? enumeration.devices : [];
    const portPath = portPathOf(device);
    return devices.some((other) => portPathOf(other) === portPath) ? devices : [...devices, device];
  }

  #enqueue(task: () => Promise<void>): void {
    this.#eventQueue = this.#eventQueue.then(task).catch((err: unknown) => {
      this.#logger.warn({ err }, `hot-plug event dropped: ${messageOf(err)}`);
    });
  }

  #emit(event: UsbHotplugEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (err: unknown) {
        this.#logger.warn({ err }, `hot-plug listener threw: ${messageOf(err)}`);
      }
    }
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
