/**
 * Descriptor bytes written by hand from the specifications (USB 2.0 ch. 9, IAD ECN, CDC 1.2/PSTN 1.2,
 * HID 1.11) and from reference/micropython-host-protocols.md §8.4 and §9.2–§9.4 — deliberately not with
 * the encoder under test, so parser tests and encoder tests check each other.
 */

/** Little-endian bytes of a u16. */
function le(value: number): [number, number] {
  return [value & 0xff, value >> 8];
}

/** A configuration descriptor header (9 bytes) in front of `body`, wTotalLength computed. */
export function configurationBytes(
  header: { numInterfaces: number; attributes?: number; maxPowerUnits?: number; stringIndex?: number; value?: number },
  ...body: number[][]
): Uint8Array {
  const flat = body.flat();
  return Uint8Array.from([
    9, 0x02, ...le(9 + flat.length), header.numInterfaces, header.value ?? 1, header.stringIndex ?? 0,
    header.attributes ?? 0x80, header.maxPowerUnits ?? 50,
    ...flat,
  ]);
}

/**
 * One CDC-ACM function: IAD (class 2/2/0), communication interface (2/2/0) with header (bcdCDC 1.20),
 * call management (no capabilities, data interface itf+1), ACM (`acmCapabilities`), union (itf, itf+1)
 * and an interrupt IN notification endpoint (8 bytes, bInterval 16); data interface (0x0A) with bulk
 * OUT then bulk IN. 66 bytes — the layout of TinyUSB's CDC template that MicroPython's built-in CDC uses.
 */
export function cdcAcmFunction(o: {
  itf: number; stringIndex: number; notify: number; out: number; in: number; packetSize: number; acmCapabilities?: number;
}): number[] {
  return [
    8, 0x0b, o.itf, 2, 0x02, 0x02, 0x00, 0, // IAD
    9, 0x04, o.itf, 0, 1, 0x02, 0x02, 0x00, o.stringIndex, // communication interface
    5, 0x24, 0x00, ...le(0x0120), // header
    5, 0x24, 0x01, 0x00, o.itf + 1, // call management
    4, 0x24, 0x02, o.acmCapabilities ?? 0x06, // abstract control management
    5, 0x24, 0x06, o.itf, o.itf + 1, // union
    7, 0x05, o.notify, 0x03, ...le(8), 16, // notification endpoint
    9, 0x04, o.itf + 1, 0, 2, 0x0a, 0x00, 0x00, 0, // data interface
    7, 0x05, o.out, 0x02, ...le(o.packetSize), 0, // bulk OUT
    7, 0x05, o.in, 0x02, ...le(o.packetSize), 0, // bulk IN
  ];
}

/** §8.4: MicroPython's built-in device descriptor on ESP32-S2/S3 (v1.24+), 303A:4001, class EF/02/01. */
export const ESP32S3_BUILTIN_DEVICE = Uint8Array.from([
  18, 0x01, ...le(0x0200), 0xef, 0x02, 0x01, 64, ...le(0x303a), ...le(0x4001), ...le(0x0100), 1, 2, 3, 1,
]);

/**
 * §8.4: the built-in configuration — 2 interfaces, bus powered, 250 mA; CDC interface 0 (string 4
 * "Board CDC") with notification endpoint 0x81; data interface 1 with 0x02 OUT and 0x82 IN, 64 bytes.
 */
export const ESP32S3_BUILTIN_CONFIG = configurationBytes(
  { numInterfaces: 2, attributes: 0x80, maxPowerUnits: 125 },
  cdcAcmFunction({ itf: 0, stringIndex: 4, notify: 0x81, out: 0x02, in: 0x82, packetSize: 64 }),
);

/**
 * §9.2–§9.4: the built-in CDC kept and one micropython-lib `CDCInterface` added: the built-in
 * configuration first, then interfaces 2–3 with 0x83 (interrupt, 8 bytes, interval 16), 0x04 OUT and
 * 0x84 IN; header patched to 4 interfaces, self powered (no max_power_ma given), 250 mA inherited.
 */
export const ESP32S3_WITH_RUNTIME_CDC_CONFIG = configurationBytes(
  { numInterfaces: 4, attributes: 0xc0, maxPowerUnits: 125 },
  cdcAcmFunction({ itf: 0, stringIndex: 4, notify: 0x81, out: 0x02, in: 0x82, packetSize: 64 }),
  cdcAcmFunction({ itf: 2, stringIndex: 0, notify: 0x83, out: 0x04, in: 0x84, packetSize: 64 }),
);

/** §9.2: the runtime device descriptor — class 0/0/0 by default, VID/PID/bcdDevice and strings 1/2/3 kept. */
export const ESP32S3_RUNTIME_DEVICE = Uint8Array.from([
  18, 0x01, ...le(0x0200), 0x00, 0x00, 0x00, 64, ...le(0x303a), ...le(0x4001), ...le(0x0100), 1, 2, 3, 1,
]);

/** Length of the USB HID boot keyboard report descriptor (HID 1.11 Appendix B.1 / E.6). */
export const BOOT_KEYBOARD_REPORT_LENGTH = 63;

/**
 * A HID boot keyboard interface: class 3 / subclass 1 (boot) / protocol 1 (keyboard), string 5, HID
 * descriptor 1.11 with one report descriptor, interrupt IN 0x81 of 8 bytes every 10 ms.
 */
export function hidKeyboardInterface(itf: number, endpoint = 0x81): number[] {
  return [
    9, 0x04, itf, 0, 1, 0x03, 0x01, 0x01, 5,
    9, 0x21, ...le(0x0111), 0x00, 1, 0x22, ...le(BOOT_KEYBOARD_REPORT_LENGTH),
    7, 0x05, endpoint, 0x03, ...le(8), 10,
  ];
}

/** A vendor-specific interface (class 0xFF) with bulk IN and OUT endpoints of `packetSize` bytes. */
export function vendorBulkInterface(itf: number, inAddress: number, outAddress: number, packetSize = 64): number[] {
  return [
    9, 0x04, itf, 0, 2, 0xff, 0x00, 0x00, 0,
    7, 0x05, inAddress, 0x02, ...le(packetSize), 0,
    7, 0x05, outAddress, 0x02, ...le(packetSize), 0,
  ];
}

/** Convenience: a copy of `bytes` with `patch(b)` applied, for malformed variants. */
export function patched(bytes: Uint8Array, patch: (b: Uint8Array) => void): Uint8Array {
  const copy = bytes.slice();
  patch(copy);
  return copy;
}
