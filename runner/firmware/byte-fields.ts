/**
 * Little helpers for the fixed-layout, little-endian C structures of ESP images (header, app
 * descriptor, partition entries). Kept separate so parsers and builders share one definition.
 */

/** Reads a little-endian u16 at `offset`. Caller guarantees bounds. */
export function readU16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] ?? 0) | ((bytes[offset + 1] ?? 0) << 8);
}

/** Reads a little-endian u32 at `offset` as an unsigned number. Caller guarantees bounds. */
export function readU32(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset] ?? 0) |
      ((bytes[offset + 1] ?? 0) << 8) |
      ((bytes[offset + 2] ?? 0) << 16) |
      ((bytes[offset + 3] ?? 0) << 24)) >>>
    0
  );
}

/** Writes a little-endian u16. */
export function writeU16(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
}

/** Writes a little-endian u32. */
export function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = (value >>> 16) & 0xff;
  bytes[offset + 3] = (value >>> 24) & 0xff;
}

/**
 * Reads a C `char[length]` field: up to the first NUL or the end of the field (a field filled
 * completely, as `strncpy` leaves it, has no terminator). Bytes are decoded as UTF-8.
 */
export function readCString(bytes: Uint8Array, offset: number, length: number): string {
  let end = offset;
  const limit = Math.min(offset + length, bytes.length);
  while (end < limit && bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.subarray(offset, end));
}

/**
 * Writes `text` into a C `char[length]` field, NUL-padded. Throws RangeError when the UTF-8 form is
 * longer than the field (silent truncation would corrupt versions and labels).
 */
export function writeCString(bytes: Uint8Array, offset: number, length: number, text: string): void {
  const encoded = new TextEncoder().encode(text);
  if (encoded.length > length) {
    throw new RangeError(`"${text}" is ${encoded.length} bytes, the field holds ${length}`);
  }
  bytes.fill(0, offset, offset + length);
  bytes.set(encoded, offset);
}

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** `0x` + 8 lowercase hex digits, the way ESP-IDF logs addresses. */
export function hex32(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}

/** True when both arrays hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
