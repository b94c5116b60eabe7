/**
 * A bench discovery of fake boards for the control server's device routes: each port path holds a
 * FakeUsbGadget, `openDevice` gives a fresh WebUSB-behaving handle on it (FakeWebUsbDevice), and
 * plugging or unplugging a board emits the hot-plug events a lab would. No hubs.
 */
import type { BenchDiscovery, DiscoveredUsbDevice, DiscoverySnapshot, UsbHotplugEvent } from '../../../runner/bench/usb-discovery.ts';
import type { UsbControlDevice } from '../../../runner/usb/usb-control-device.ts';
import type { UsbTransferDevice } from '../../../runner/usb/usb-transfer-device.ts';
import type { FakeUsbGadget } from '../../bench/fake-usb-gadget.ts';
import { FakeWebUsbDevice } from '../../bench/fake-webusb-device.ts';

export class FakeDeviceDiscovery implements BenchDiscovery {
  readonly #boards = new Map<string, { gadget: FakeUsbGadget; address: number }>();
  readonly #listeners = new Set<(event: UsbHotplugEvent) => void>();
  /** Every handle `openDevice` gave out, in order. */
  readonly handles: FakeWebUsbDevice[] = [];
  #nextAddress = 2;

  constructor(boards: Record<string, FakeUsbGadget> = {}) {
    for (const [portPath, gadget] of Object.entries(boards)) this.#boards.set(portPath, { gadget, address: this.#nextAddress++ });
  }

  async list(): Promise<DiscoverySnapshot> {
    return { devices: [...this.#boards.keys()].map((portPath) => this.#record(portPath)) };
  }

  onHotplug(listener: (event: UsbHotplugEvent) => void): () => void {
    const entry = (event: UsbHotplugEvent): void => listener(event);
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  async openHub(): Promise<UsbControlDevice | null> {
    return null;
  }

  async openDevice(portPath: string): Promise<UsbTransferDevice | null> {
    const board = this.#boards.get(portPath);
    if (board === undefined) return null;
    const handle = new FakeWebUsbDevice(board.gadget);
    this.handles.push(handle);
    return handle;
  }

  async close(): Promise<void> {
    this.#listeners.clear();
  }

  /** A board enumerates at `portPath` (a new address each time). */
  plug(portPath: string, gadget: FakeUsbGadget): void {
    this.#boards.set(portPath, { gadget, address: this.#nextAddress++ });
    this.#emit({ type: 'attach', atMs: 0, device: this.#record(portPath) });
  }

  /** The board at `portPath` leaves: its gadget is unplugged, then the detach event goes out. */
  unplug(portPath: string): void {
    const board = this.#boards.get(portPath);
    if (board === undefined) return;
    this.#boards.delete(portPath);
    board.gadget.unplug();
    this.#emit({ type: 'detach', atMs: 0, portPath });
  }

  #record(portPath: string): DiscoveredUsbDevice {
    const { gadget, address } = this.#boards.get(portPath)!;
    const bytes = gadget.spec.device;
    return {
      portPath, address, vendorId: bytes[8]! | (bytes[9]! << 8), productId: bytes[10]! | (bytes[11]! << 8),
      manufacturer: null, product: null, serialNumber: null, isHub: false, serial: null,
    };
  }

  #emit(event: UsbHotplugEvent): void {
    for (const listener of [...this.#listeners]) listener(event);
  }
}
