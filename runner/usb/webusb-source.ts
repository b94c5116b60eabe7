/**
 * The adapter over the `usb` package (v3, WebUSB API on nusb): the only file that imports it, and only
 * when first used, so a host where its native binding does not load still starts and reports why.
 * Discovery sees it through {@link HostUsbSource}; tests pass their own source instead.
 */
import type { UsbControlDevice, UsbControlSetup, UsbInTransferResult, UsbOutTransferResult } from './usb-control-device.ts';
import type { UsbTransferDevice } from './usb-transfer-device.ts';

/**
 * The members of the `usb` package's device object that discovery and the device view use: WebUSB
 * plus its topology fields, and the timeout argument (ms, default 1000) its transfers take beyond
 * WebUSB. webusb-transfer-device.ts turns its departures from WebUSB into WebUSB behaviour.
 */
export interface HostUsbDevice extends UsbTransferDevice {
  /** Bus id: on Linux the bus number zero-padded to three digits (`"001"`). */
  readonly bus: string;
  /** Hub-port chain from the root hub (`[1, 3]` for `1-1.3`); empty for a root hub. */
  readonly ports: readonly number[];
  /** Address the host assigned at enumeration. */
  readonly address: number;
  readonly deviceClass: number;
  /** String descriptors; the package may open the device to read them, so reading can throw. */
  readonly manufacturerName: string | null;
  readonly productName: string | null;
  readonly serialNumber: string | null;
  controlTransferIn(setup: UsbControlSetup, length: number, timeoutMs?: number): Promise<UsbInTransferResult>;
  controlTransferOut(setup: UsbControlSetup, data?: BufferSource, timeoutMs?: number): Promise<UsbOutTransferResult>;
  transferIn(endpointNumber: number, length: number, timeoutMs?: number): Promise<UsbInTransferResult>;
  transferOut(endpointNumber: number, data: BufferSource, timeoutMs?: number): Promise<UsbOutTransferResult>;
}

/** WebUSB's `USBConnectionEvent`, reduced to what discovery reads. */
export interface HostUsbConnectionEvent {
  readonly device: HostUsbDevice;
}

export type HostUsbConnectionListener = (event: HostUsbConnectionEvent) => void;

/** WebUSB's `USB` object, reduced to what discovery uses. */
export interface HostUsbSource {
  /** Everything enumerated (root hubs excluded). Rejects when the host has no USB view. */
  getDevices(): Promise<HostUsbDevice[]>;
  addEventListener(type: 'connect' | 'disconnect', listener: HostUsbConnectionListener): void;
  removeEventListener(type: 'connect' | 'disconnect', listener: HostUsbConnectionListener): void;
}

/**
 * Loads the `usb` package and returns its default WebUSB object (`usb`, which allows every device
 * without a permission prompt). Rejects when the package or its native binding cannot be loaded.
 */
export async function loadWebUsbSource(): Promise<HostUsbSource> {
  const loaded: Record<string, unknown> = await import('usb');
  const webusb = (loaded['usb'] ?? (loaded['default'] as Record<string, unknown> | undefined)?.['usb']) as HostUsbSource | undefined;
  if (webusb === undefined || typeof webusb.getDevices !== 'function') throw new Error('the usb package has no WebUSB `usb` export');
  return webusb;
}

/**
 * A hub device from the `usb` package as a {@link UsbControlDevice}, smoothing two traps of usb 3.1.0.
 * Its `controlTransferOut` without data throws a TypeError (it reads `data.buffer`), so an empty data
 * stage is passed. And it sends requests addressed to "other" (hub ports: GetPortStatus, Set/Clear-
 * PortFeature) only through a claimed interface and otherwise fails with "invalid state"; a hub's only
 * interface belongs to the kernel hub driver (claiming it fails, detaching it drops every device on the
 * hub). Seen in node-usb-rs `src/webusb_device.rs` (`get_interface`), not on hardware.
 */
export function webUsbHubDevice(device: HostUsbDevice): UsbControlDevice {
  const explain = (setup: UsbControlSetup, err: unknown): never => {
    if (setup.recipient === 'other' && err instanceof Error && /invalid state/.test(err.message)) {
      const refused = new Error(`${err.message} (the usb package sends hub-port requests only through a claimed interface, and the kernel hub driver owns the hub's interface)`, { cause: err });
      // WebUSB's name for "not allowed in this state": what DiscoveryBenchUsb recognises to switch to sysfs.
      refused.name = 'InvalidStateError';
      throw refused;
    }
    throw err;
  };
  return {
    get vendorId() { return device.vendorId; },
    get productId() { return device.productId; },
    get opened() { return device.opened; },
    open: () => device.open(),
    close: () => device.close(),
    controlTransferIn: (setup: UsbControlSetup, length: number): Promise<UsbInTransferResult> =>
      device.controlTransferIn(setup, length).catch((err: unknown) => explain(setup, err)),
    controlTransferOut: (setup: UsbControlSetup, data?: BufferSource): Promise<UsbOutTransferResult> =>
      // usb 3.1.0 reads `data.buffer` unconditionally, so a request without a data stage needs an empty one.
      device.controlTransferOut(setup, data ?? new Uint8Array(0)).catch((err: unknown) => explain(setup, err)),
  };
}
