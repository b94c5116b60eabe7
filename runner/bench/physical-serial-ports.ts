/**
 * The fallback way to find a USB device's tty when sysfs cannot say (macOS, Windows, a Linux without
 * `/sys/class/tty`): `serialport`'s port list, matched by VID/PID and USB serial string. Weaker than a
 * port path — boards that share VID, PID and serial (MicroPython ≤1.23 on S2/S3 reports `123456`) cannot
 * be told apart — so an ambiguous match gives no tty rather than a guess.
 */
import { listSerialPorts } from '../link/serialport-link.ts';

/** One entry of `SerialPort.list()` (@serialport/bindings-interface `PortInfo`); ids are hex strings without `0x`. */
export interface SerialPortInfo {
  path: string;
  manufacturer?: string | undefined;
  serialNumber?: string | undefined;
  pnpId?: string | undefined;
  locationId?: string | undefined;
  vendorId?: string | undefined;
  productId?: string | undefined;
}

/** Lists the host's serial ports. On Linux `serialport` runs `udevadm`; without it this rejects. */
export type SerialPortLister = () => Promise<SerialPortInfo[]>;

/** `SerialPort.list()` (runner/link/serialport-link.ts stays the only importer of `serialport`). */
export const listSerialportPorts: SerialPortLister = () => listSerialPorts();

/** The identity fields of a USB device a serial port can be matched on. */
export interface SerialMatchCandidate {
  portPath: string;
  vendorId: number;
  productId: number;
  serialNumber: string | null;
}

/**
 * Pairs devices with ports: a port matches a device with the same VID and PID and, when both report
 * one, the same serial string. A pair is kept only when it is the device's only matching port and the
 * port's only matching device. Returns port path → tty path.
 */
export function matchSerialPorts(devices: readonly SerialMatchCandidate[], ports: readonly SerialPortInfo[]): Map<string, string> {
  const matches = (device: SerialMatchCandidate, port: SerialPortInfo): boolean =>
    parseHexId(port.vendorId) === device.vendorId &&
    parseHexId(port.productId) === device.productId &&
    (device.serialNumber === null || port.serialNumber === undefined || port.serialNumber === device.serialNumber);
  const result = new Map<string, string>();
  for (const device of devices) {
    const candidates = ports.filter((port) => matches(device, port));
    if (candidates.length !== 1) continue;
    const port = candidates[0]!;
    if (devices.filter((other) => matches(other, port)).length === 1) result.set(device.portPath, port.path);
  }
  return result;
}

function parseHexId(id: string | undefined): number | null {
  if (id === undefined || !/^(0x)?[0-9a-f]{1,4}$/i.test(id)) return null;
  return Number.parseInt(id.replace(/^0x/i, ''), 16);
}
