/**
 * The USB identity a simulated board presents to the host, which depends on the board's wiring and on
 * what is running: the CP2104 bridge of an ESP32 DevKit never changes; an ESP32-S3 on its native USB
 * port is the ROM's USB-Serial-JTAG in download mode and MicroPython's TinyUSB CDC otherwise.
 * Source: reference micropython-host-protocols.md §10.1–10.2.
 */
import { createHash } from 'node:crypto';

export interface UsbIdentity {
  vendorId: number;
  productId: number;
  manufacturer: string;
  product: string;
  /** USB serial string; undefined when the device reports none. */
  serialNumber: string | undefined;
}

/** What the board is running, as far as USB is concerned. */
export type UsbMode = 'rom-download' | 'micropython';

export interface UsbIdentityInput {
  usb: 'native' | 'uart-bridge';
  mode: UsbMode;
  mac: Uint8Array;
  /** Board id, to give each bridge chip its own factory serial. */
  boardId: string;
  /** MicroPython version when running MicroPython, e.g. `v1.24.1`. */
  firmwareVersion?: string;
  /** Firmware quirk `usbSerial`: `default` (version rule), `fixed-123456`, or `none`. */
  usbSerialQuirk?: string;
}

/** Formats a VID:PID pair the way `lsusb` and `mpremote devs` do (`303a:4001`). */
export function formatVidPid(identity: UsbIdentity): string {
  return `${hex4(identity.vendorId)}:${hex4(identity.productId)}`;
}

/** The identity for a board in a given mode. */
export function usbIdentityFor(input: UsbIdentityInput): UsbIdentity {
  if (input.usb === 'uart-bridge') {
    // A CP2104 carries its own factory-programmed serial; it does not depend on the ESP32 at all.
    const serial = createHash('sha256').update(`cp2104/${input.boardId}`).digest('hex').slice(0, 8).toUpperCase();
    return { vendorId: 0x10c4, productId: 0xea60, manufacturer: 'Silicon Labs', product: 'CP2104 USB to UART Bridge Controller', serialNumber: serial };
  }
  if (input.mode === 'rom-download') {
    const colonMac = [...input.mac].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
    return { vendorId: 0x303a, productId: 0x1001, manufacturer: 'Espressif', product: 'USB JTAG/serial debug unit', serialNumber: colonMac };
  }
  return { vendorId: 0x303a, productId: 0x4001, manufacturer: 'Espressif Systems', product: 'Espressif Device', serialNumber: tinyUsbSerial(input) };
}

function tinyUsbSerial(input: UsbIdentityInput): string | undefined {
  const quirk = input.usbSerialQuirk ?? 'default';
  if (quirk === 'none') return undefined;
  if (quirk === 'fixed-123456') return '123456';
  // Up to v1.23 ESP-IDF's esp_tinyusb default serial "123456"; from v1.24 the lowercase hex of the MAC.
  if (versionBelow(input.firmwareVersion ?? 'v0.0.0', [1, 24, 0])) return '123456';
  return [...input.mac].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** True when `version` (e.g. `v1.23.0`, `v1.24.0-preview`) is older than `limit`. */
export function versionBelow(version: string, limit: [number, number, number]): boolean {
  const parts = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version)?.slice(1).map(Number) ?? [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    const a = parts[i] ?? 0;
    const b = limit[i] ?? 0;
    if (a !== b) return a < b;
  }
  return false;
}

function hex4(value: number): string {
  return value.toString(16).padStart(4, '0');
}
