/**
 * A stand-in for the `usb` package's WebUSB object: devices shaped like its device objects (from the
 * bench fixture), `getDevices()` that can reject the way it does in a container, and connect/disconnect
 * events dispatched to listeners the way its EventTarget does.
 */
import type { HostUsbConnectionListener, HostUsbDevice, HostUsbSource } from '../../runner/usb/webusb-source.ts';
import type { UsbControlSetup, UsbInTransferResult, UsbOutTransferResult } from '../../runner/usb/usb-control-device.ts';
import type { FixtureDevice } from './fixtures/seven-port-hub-bench.ts';

/** A device object as the `usb` package gives it; control transfers are recorded and stall. */
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

  constructor(fixture: FixtureDevice) {
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
    this.opened = true;
  }

  async close(): Promise<void> {
    this.opened = false;
  }

  /** Like usb 3.1.0 without a claimed interface: requests to "other" fail with "invalid state". */
  async controlTransferIn(setup: UsbControlSetup): Promise<UsbInTransferResult> {
    if (setup.recipient === 'other') throw new Error('controlTransferIn error: invalid state');
    return { status: 'stall' };
  }

  /** Like usb 3.1.0: reads `data.buffer` unconditionally, so no data stage throws a TypeError. */
  async controlTransferOut(setup: UsbControlSetup, data?: BufferSource): Promise<UsbOutTransferResult> {
    this.outData.push(data);
    const bytes = data as ArrayBufferView | undefined;
    if (bytes === undefined) throw new TypeError("Cannot read properties of undefined (reading 'buffer')");
    void bytes.buffer;
    if (setup.recipient === 'other') throw new Error('controlTransferOut error: invalid state');
    return { status: 'ok', bytesWritten: 0 };
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
