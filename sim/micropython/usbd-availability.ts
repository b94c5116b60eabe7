/**
 * Which boards have a native USB device stack, and which firmware gives Python `machine.USBDevice`
 * (reference micropython-host-protocols.md §8.1, §10.2).
 */
import { versionAtLeast } from '../board/usb-identity.ts';
import type { BoardHardware } from './micropython-host.ts';

/**
 * The first firmware with `machine.USBDevice` on ESP32-S2/S3: v1.24.0 moved those chips from ESP-IDF's
 * `esp_tinyusb` (which has no runtime USB device; the API came in v1.23.0 for rp2 and samd only) to
 * MicroPython's own TinyUSB integration (commit 4247921c4e).
 */
export const USB_DEVICE_API_SINCE: readonly [number, number, number] = [1, 24, 0];

/** The chip has a USB-OTG peripheral that MicroPython drives (the S3 here; the original ESP32 has none). */
export function hasNativeUsb(chip: BoardHardware['chip']): boolean {
  return chip === 'esp32s3';
}

/** `machine.USBDevice` exists: a native-USB chip running firmware from {@link USB_DEVICE_API_SINCE}. */
export function usbDeviceApiAvailable(chip: BoardHardware['chip'], firmwareVersion: string): boolean {
  return hasNativeUsb(chip) && versionAtLeast(firmwareVersion, USB_DEVICE_API_SINCE);
}
