/**
 * USB identities a simulated board presents (reference micropython-host-protocols.md §10). A board
 * behind a bridge always shows the bridge's identity (passed in by the bench config); a native-USB
 * ESP32-S3 shows USB-Serial-JTAG in ROM/bootloader mode and MicroPython's TinyUSB CDC while
 * MicroPython runs, whose serial string depends on the firmware version.
 */

/** What the USB host sees in the device descriptor. */
export interface UsbDeviceIdentity {
  vid: number;
  pid: number;
  manufacturer: string | null;
  product: string | null;
  serialNumber: string | null;
}

/** Espressif's USB-Serial-JTAG peripheral: serial = MAC as `XX:XX:XX:XX:XX:XX` (§10.1). */
export function usbSerialJtagIdentity(mac: Uint8Array): UsbDeviceIdentity {
  return {
    vid: 0x303a,
    pid: 0x1001,
    manufacturer: 'Espressif',
    product: 'USB JTAG/serial debug unit',
    serialNumber: [...mac].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':'),
  };
}

/**
 * MicroPython's TinyUSB CDC on the S3 (§10.1, §10.2): 303A:4001, `Espressif Systems` /
 * `Espressif Device`. Serial `123456` up to v1.23 (ESP-IDF esp_tinyusb defaults, identical on every
 * board); from v1.24 the lowercase hex of an 8-byte buffer holding the 6-byte MAC — the last two
 * bytes are not initialised by the firmware (unverified on hardware); the sim uses zeros.
 */
export function tinyUsbCdcIdentity(mac: Uint8Array, firmwareVersion: string): UsbDeviceIdentity {
  const macDerived = versionAtLeast(firmwareVersion, [1, 24, 0]);
  const hex = [...mac].map((b) => b.toString(16).padStart(2, '0')).join('');
  return {
    vid: 0x303a,
    pid: 0x4001,
    manufacturer: 'Espressif Systems',
    product: 'Espressif Device',
    serialNumber: macDerived ? `${hex}0000` : '123456',
  };
}

/**
 * True when a git-describe version (`v1.24.1`, `v1.24.0-preview.39.g…`) is at least `minimum`.
 * Unparseable versions count as new (a development build).
 */
export function versionAtLeast(version: string, minimum: readonly [number, number, number]): boolean {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
  if (!m) return true;
  const parts = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  for (let i = 0; i < 3; i++) {
    const a = parts[i] ?? 0;
    const b = minimum[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}
