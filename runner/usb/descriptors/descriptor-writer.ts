/**
 * Byte builder for the encoder: checks that every value fits its field and patches lengths once a
 * descriptor's size is known. Out-of-range values are errors, never silently truncated bytes.
 */
import { UsbDescriptorError } from './usb-descriptor-error.ts';

/** Appends descriptor fields with range checks; see the module comment. */
export class DescriptorWriter {
  private readonly bytes: number[] = [];

  /** Bytes written so far = offset of the next byte. */
  get offset(): number {
    return this.bytes.length;
  }

  /** Appends one byte; `field` names it in the error. */
  u8(value: number, field: string): void {
    this.bytes.push(checked(value, 0xff, field, this.offset));
  }

  /** Appends a little-endian u16. */
  u16(value: number, field: string): void {
    const v = checked(value, 0xffff, field, this.offset);
    this.bytes.push(v & 0xff, v >>> 8);
  }

  /** Appends bytes as they are (raw descriptors, endpoint tails). */
  append(data: Uint8Array): void {
    for (const b of data) this.bytes.push(b);
  }

  /** Overwrites the byte at `offset` (bLength once the descriptor is complete). */
  patchU8(offset: number, value: number, field: string): void {
    this.bytes[offset] = checked(value, 0xff, field, offset);
  }

  /** Overwrites a little-endian u16 at `offset` (wTotalLength). */
  patchU16(offset: number, value: number, field: string): void {
    const v = checked(value, 0xffff, field, offset);
    this.bytes[offset] = v & 0xff;
    this.bytes[offset + 1] = v >>> 8;
  }

  /** The bytes written, as a new array. */
  toBytes(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

function checked(value: number, max: number, field: string, offset: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new UsbDescriptorError('value-out-of-range', offset, `${field} = ${value} does not fit (0..${max})`);
  }
  return value;
}
