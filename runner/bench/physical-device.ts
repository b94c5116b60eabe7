/**
 * A device from the `usb` package as discovery reports it: port path from its bus and port chain,
 * string descriptors read defensively (the package may open the device to read them, which can fail
 * without permission), and the tty found for its path.
 */
import { formatPortPath } from '../usb/port-path.ts';
import type { HostUsbDevice } from '../usb/webusb-source.ts';
import type { DiscoveredUsbDevice } from './usb-discovery.ts';

/** bDeviceClass of a hub (USB 2.0 §11.23.1). */
export const HUB_DEVICE_CLASS = 0x09;

/** The Linux-style port path of a device from the `usb` package. */
export function portPathOf(device: HostUsbDevice): string {
  return formatPortPath(device.bus, device.ports);
}

/** The discovery record of `device`; `ttyPath` is its serial endpoint (`/dev/ttyACM0`) or null. */
export function toDiscoveredDevice(device: HostUsbDevice, ttyPath: string | null): DiscoveredUsbDevice {
  return {
    portPath: portPathOf(device),
    address: device.address,
    vendorId: device.vendorId,
    productId: device.productId,
    manufacturer: readString(() => device.manufacturerName),
    product: readString(() => device.productName),
    serialNumber: serialNumberOf(device),
    isHub: device.deviceClass === HUB_DEVICE_CLASS,
    serial: ttyPath === null ? null : { ttyPath, url: ttyPath },
  };
}

/** The device's USB serial string, or null when it has none or it cannot be read. */
export function serialNumberOf(device: HostUsbDevice): string | null {
  return readString(() => device.serialNumber);
}

/** Orders port paths as a person reads them: `1-1.2` before `1-1.10`. */
export function comparePortPaths(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

function readString(read: () => string | null): string | null {
  try {
    return read() ?? null;
  } catch {
    return null;
  }
}
