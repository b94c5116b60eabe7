/**
 * 6-byte IEEE 802 MAC addresses as the medium handles them. The medium keys tables by a canonical
 * string (12 lowercase hex digits, no separators) so lookups do not depend on who made the bytes.
 */

/** Bytes in a MAC address (ESP-NOW `ADDR_LEN`). */
export const MAC_LENGTH = 6;

/** The broadcast address `ff:ff:ff:ff:ff:ff`. */
export const BROADCAST_MAC: Readonly<Uint8Array> = new Uint8Array(MAC_LENGTH).fill(0xff);

/**
 * The canonical key of a MAC address: 12 lowercase hex digits, e.g. `246f28a1b2c3`.
 * @throws RangeError when `mac` is not 6 bytes.
 */
export function macHex(mac: Uint8Array): string {
  checkMac(mac, 'MAC');
  let hex = '';
  for (const byte of mac) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/**
 * Parses `24:6f:28:a1:b2:c3`, `24-6F-28-A1-B2-C3` or `246f28a1b2c3` into 6 bytes.
 * @throws RangeError on anything else.
 */
export function parseMac(text: string): Uint8Array {
  const digits = text.replace(/[:-]/g, '');
  if (!/^[0-9a-fA-F]{12}$/.test(digits)) throw new RangeError(`not a MAC address: ${JSON.stringify(text)}`);
  const mac = new Uint8Array(MAC_LENGTH);
  for (let i = 0; i < MAC_LENGTH; i++) mac[i] = Number.parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return mac;
}

/**
 * True for broadcast and multicast addresses: the group bit (least significant bit of the first byte)
 * is set. Such frames go to every listener on the channel and are never acknowledged.
 */
export function isGroupAddress(mac: Uint8Array): boolean {
  return ((mac[0] ?? 0) & 0x01) === 0x01;
}

/** @throws RangeError naming `what` when `mac` is not a 6-byte array. */
export function checkMac(mac: Uint8Array, what: string): void {
  if (!(mac instanceof Uint8Array) || mac.length !== MAC_LENGTH) {
    throw new RangeError(`${what} must be ${MAC_LENGTH} bytes, got ${mac instanceof Uint8Array ? mac.length : typeof mac}`);
  }
}
