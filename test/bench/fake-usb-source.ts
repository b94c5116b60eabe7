/**
 * A stand-in for the `usb` package's WebUSB object: devices shaped like its device objects (from the
 * bench fixture), `getDevices()` that can reject the way it does in a container, and connect/disconnect
 * events dispatched to listeners the way its EventTarget does.
 */
import { systemClock, type Clock } from '../../runner/repl/clock.ts';
import type { HostUsbConnectionListener, HostUsbDevice, HostUsbSource } from '../../runner/usb/webusb-source.ts';
import type { UsbControlSetup, UsbInTransferResult, UsbOutTransferResult } from '../../runner/usb/usb-control-device.ts';
import type { FakePendingRead, FakeUsbGadget } from './fake-usb-gadget.ts';
import type { FixtureDevice } from './fixtures/seven-port-hub-bench.ts';

/** The `usb` package's default transfer timeout, ms (its dist/index.js DEFAULT_TIMEOUT). */
const PACKAGE_DEFAULT_TIMEOUT_MS = 1000;

export interface FakeHostUsbDeviceOptions {
  /**
   * The USB function behind the device: control transfers, claims and transfers then behave as usb
   * 3.1.0 does (read from node-usb-rs `src/webusb_device.rs` v3.1.0 and nusb 0.2): a STALL rejects
   * (`... error: endpoint stalled` / `... error: Stall`), transfers time out after their `timeout`
   * argument (`... error: Cancelled`), an unplugged device rejects with `device disconnected` /
   * `Disconnected`, bulk/interrupt endpoints exist only in claimed interfaces (`endpoint not found`),
   * requests not to the device itself need some claimed interface (`invalid state`), and close()
   * keeps the claims. Without a gadget, control transfers stall as before (hubs of the fixture).
   */
  gadget?: FakeUsbGadget;
  /** Time for the package's transfer timeouts. Default: the process clock. */
  clock?: Clock;
  /** Interfaces a kernel driver owns: claiming them fails with EBUSY, as usbfs answers. */
  kernelBound?: readonly number[];
}

/**
 * A device object as the `usb` package gives it. Without a gadget, control transfers are recorded and
 * stall; with one, it is a board with descriptors and endpoints (see {@link FakeHostUsbDeviceOptions}).
 */
export class FakeHostUsbDevice implements HostUsbDevice {
  readonly bus: string;
  readonly ports: readonly number[];
  readonly address: number;
  readonly vendorId: number;
  readonly productId: number;
  readonly deviceClass: number;
  readonly manufacturerName: string | null;
  readonly productName: string | null;
  readonly serialNumber: string | null;
  readonly outData: Array<BufferSource | undefined> = [];
  opened = false;
  /** Interfaces claimed (kept across close(), as the package does). */
  readonly claimed = new Set<number>();
  /** The timeout argument of every bulk/interrupt transfer, ms. */
  readonly transferTimeouts: number[] = [];
  readonly #gadget: FakeUsbGadget | undefined;
  readonly #clock: Clock;
  readonly #kernelBound: ReadonlySet<number>;
  readonly #pending = new Set<{ read: FakePendingRead; cancelTimer: () => void }>();

  constructor(fixture: FixtureDevice, options: FakeHostUsbDeviceOptions = {}) {
    this.#gadget = options.gadget;
    this.#clock = options.clock ?? systemClock;
    this.#kernelBound = new Set(options.kernelBound ?? []);
    this.#gadget?.onUnplug(() => {
      for (const pending of [...this.#pending]) pending.read.cancel(new Error('transferIn error: Disconnected'));
    });
    this.bus = fixture.bus;
    this.ports = fixture.ports;
    this.address = fixture.address;
    this.vendorId = fixture.vendorId;
    this.productId = fixture.productId;
    this.deviceClass = fixture.deviceClass;
    this.manufacturerName = fixture.manufacturerName;
    this.productName = fixture.productName;
    this.serialNumber = fixture.serialNumber;
  }

  async open(): Promise<void> {
    if (this.#gadget !== undefined && !this.#gadget.present) throw new Error('open error: No such device (os error 19)');
    this.opened = true;
  }

  async close(): Promise<void> {
    this.opened = false;
  }

  /** Like usb 3.1.0 without a claimed interface: requests to "other" fail with "invalid state". */
  async controlTransferIn(setup: UsbControlSetup, length = 0): Promise<UsbInTransferResult> {
    if (this.#gadget === undefined) {
      if (setup.recipient === 'other') throw new Error('controlTransferIn error: invalid state');
      return { status: 'stall' };
    }
    const answer = await this.#control('controlTransferIn', 'in', setup);
    const data = answer.slice(0, length);
    return { status: 'ok', data: new DataView(data.buffer) };
  }

  /** Like usb 3.1.0: reads `data.buffer` unconditionally, so no data stage throws a TypeError. */
  async controlTransferOut(setup: UsbControlSetup, data?: BufferSource): Promise<UsbOutTransferResult> {
    this.outData.push(data);
    const bytes = data as ArrayBufferView | undefined;
    if (bytes === undefined) throw new TypeError("Cannot read properties of undefined (reading 'buffer')");
    void bytes.buffer;
    if (this.#gadget === undefined) {
      if (setup.recipient === 'other') throw new Error('controlTransferOut error: invalid state');
      return { status: 'ok', bytesWritten: 0 };
    }
    await this.#control('controlTransferOut', 'out', setup, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return { status: 'ok', bytesWritten: bytes.byteLength };
  }

  async claimInterface(interfaceNumber: number): Promise<void> {
    if (!this.opened) throw new Error('claimInterface error: invalid state');
    if (this.#kernelBound.has(interfaceNumber)) throw new Error('claimInterface error: Device or resource busy (os error 16)');
    if (!(this.#gadget?.interfaceNumbers.includes(interfaceNumber) ?? false)) throw new Error('claimInterface error: No such file or directory (os error 2)');
    this.claimed.add(interfaceNumber);
  }

  async releaseInterface(interfaceNumber: number): Promise<void> {
    if (!this.opened) throw new Error('releaseInterface error: invalid state');
    if (!this.claimed.delete(interfaceNumber)) throw new Error('releaseInterface error: not claimed');
  }

  async transferIn(endpointNumber: number, length: number, timeoutMs = PACKAGE_DEFAULT_TIMEOUT_MS): Promise<UsbInTransferResult> {
    this.transferTimeouts.push(timeoutMs);
    const gadget = this.#endpointGadget('transferIn', endpointNumber | 0x80);
    if (!gadget.present) throw new Error('transferIn error: Disconnected');
    if (gadget.stalled.has(endpointNumber | 0x80)) throw new Error('transferIn error: Stall');
    const read = gadget.read(endpointNumber | 0x80, length);
    const entry = { read, cancelTimer: this.#clock.setTimer(() => read.cancel(new Error('transferIn error: Cancelled')), timeoutMs) };
    this.#pending.add(entry);
    try {
      const data = await read.promise;
      return { status: 'ok', data: new DataView(data.buffer, data.byteOffset, data.byteLength) };
    } finally {
      entry.cancelTimer();
      this.#pending.delete(entry);
    }
  }

  async transferOut(endpointNumber: number, data: BufferSource, timeoutMs = PACKAGE_DEFAULT_TIMEOUT_MS): Promise<UsbOutTransferResult> {
    this.transferTimeouts.push(timeoutMs);
    const gadget = this.#endpointGadget('transferOut', endpointNumber);
    if (!gadget.present) throw new Error('transferOut error: Disconnected');
    if (gadget.stalled.has(endpointNumber)) throw new Error('transferOut error: Stall');
    const bytes = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
    gadget.receive(endpointNumber, bytes);
    return { status: 'ok', bytesWritten: bytes.byteLength };
  }

  /** How many bulk/interrupt reads wait in the package now. */
  get pendingTransfers(): number {
    return this.#pending.size;
  }

  /** The package looks endpoints up in the claimed interfaces only (it does not check that the device is open). */
  #endpointGadget(what: string, address: number): FakeUsbGadget {
    const located = this.#gadget?.endpoint(address);
    if (this.#gadget === undefined || located === undefined || !this.claimed.has(located.interfaceNumber)) throw new Error(`${what} error: endpoint not found`);
    return this.#gadget;
  }

  /** Requests to the device go to it directly; any other recipient needs some claimed interface. */
  async #control(what: string, direction: 'in' | 'out', setup: UsbControlSetup, data?: Uint8Array): Promise<Uint8Array> {
    const gadget = this.#gadget!;
    if (!this.opened || (setup.recipient !== 'device' && this.claimed.size === 0)) throw new Error(`${what} error: invalid state`);
    if (!gadget.present) throw new Error(`${what} error: device disconnected`);
    const answer = await gadget.answerControl(direction, setup, data);
    if (answer.status === 'stall') throw new Error(`${what} error: endpoint stalled`);
    return answer.data;
  }
}

export class FakeUsbSource implements HostUsbSource {
  devices: HostUsbDevice[];
  /** When set, `getDevices()` rejects with it. */
  failure: Error | null = null;
  getDevicesCalls = 0;
  readonly #listeners = { connect: new Set<HostUsbConnectionListener>(), disconnect: new Set<HostUsbConnectionListener>() };

  constructor(fixtures: readonly FixtureDevice[]) {
    this.devices = fixtures.map((fixture) => new FakeHostUsbDevice(fixture));
  }

  /** Puts `device` in place of the device listed at the same port (or adds it), without events. */
  replace(device: FakeHostUsbDevice): void {
    const at = this.devices.findIndex((other) => other.bus === device.bus && other.ports.join('.') === device.ports.join('.'));
    if (at >= 0) this.devices[at] = device;
    else this.devices.push(device);
  }

  async getDevices(): Promise<HostUsbDevice[]> {
    this.getDevicesCalls++;
    if (this.failure) throw this.failure;
    return [...this.devices];
  }

  addEventListener(type: 'connect' | 'disconnect', listener: HostUsbConnectionListener): void {
    this.#listeners[type].add(listener);
  }

  removeEventListener(type: 'connect' | 'disconnect', listener: HostUsbConnectionListener): void {
    this.#listeners[type].delete(listener);
  }

  listenerCount(): number {
    return this.#listeners.connect.size + this.#listeners.disconnect.size;
  }

  /** The device enumerates: it is listed and a connect event fires. */
  connect(device: HostUsbDevice): void {
    this.devices.push(device);
    for (const listener of this.#listeners.connect) listener({ device });
  }

  /** The device leaves: it is no longer listed and a disconnect event fires. */
  disconnect(device: HostUsbDevice): void {
    this.devices = this.devices.filter((other) => other !== device);
    for (const listener of this.#listeners.disconnect) listener({ device });
  }
}
