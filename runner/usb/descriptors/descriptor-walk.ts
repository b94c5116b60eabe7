/**
 * Splitting a run of concatenated descriptors (a configuration's body) at their bLength fields — the
 * one place that decides whether a run is well formed, so every caller fails the same way.
 */
import { hexByte } from './descriptor-format.ts';
import { UsbDescriptorError } from './usb-descriptor-error.ts';

/**
 * A descriptor kept as bytes: unknown and class-specific descriptors the tree does not decode, and
 * known class descriptors too malformed to decode (then `defect` says why).
 */
export interface UsbRawDescriptor {
  kind: 'raw';
  /** Byte offset within the buffer it was parsed from. */
  offset: number;
  /** bDescriptorType. */
  descriptorType: number;
  /** The whole descriptor, bLength and bDescriptorType included (a copy, not a view). */
  bytes: Uint8Array;
  /** Why a descriptor of a known type stayed raw (class drivers will reject it). */
  defect?: string;
}

/**
 * Splits `data[start, end)` into descriptors. `endLabel` names the limit in messages
 * (e.g. "wTotalLength (75)").
 *
 * @throws UsbDescriptorError `truncated` (fewer than 2 bytes left for a header), `zero-length`
 *   (bLength 0), `too-short` (bLength 1), `past-end` (bLength beyond `end`).
 */
export function walkDescriptors(data: Uint8Array, start: number, end: number, endLabel = 'the end'): UsbRawDescriptor[] {
  const descriptors: UsbRawDescriptor[] = [];
  let offset = start;
  while (offset < end) {
    if (end - offset < 2) {
      throw new UsbDescriptorError('truncated', offset, `1 byte left before ${endLabel}, a descriptor header needs 2`, { bytes: data });
    }
    const length = data[offset]!;
    const descriptorType = data[offset + 1]!;
    if (length === 0) {
      throw new UsbDescriptorError('zero-length', offset, `bLength 0 (descriptor type ${hexByte(descriptorType)}): a host cannot step past it`, { bytes: data });
    }
    if (length < 2) {
      throw new UsbDescriptorError('too-short', offset, `bLength ${length} is shorter than the 2-byte descriptor header`, { bytes: data });
    }
    if (offset + length > end) {
      throw new UsbDescriptorError('past-end', offset,
        `bLength ${length} (descriptor type ${hexByte(descriptorType)}) runs ${offset + length - end} byte(s) past ${endLabel}`, { bytes: data });
    }
    descriptors.push({ kind: 'raw', offset, descriptorType, bytes: data.slice(offset, offset + length) });
    offset += length;
  }
  return descriptors;
}

/**
 * Throws `too-short` when `raw` is shorter than the fixed fields of its type.
 * `name` is the descriptor's name in the message ("interface descriptor").
 */
export function requireLength(raw: UsbRawDescriptor, minimum: number, name: string, data?: Uint8Array): void {
  if (raw.bytes.length < minimum) {
    throw new UsbDescriptorError('too-short', raw.offset, `${name} has bLength ${raw.bytes.length}, its fields need ${minimum}`,
      data === undefined ? {} : { bytes: data });
  }
}

/** Little-endian u16 of a descriptor field; callers have checked the length. */
export function readU16(bytes: Uint8Array, offset: number): number {
  return bytes[offset]! | (bytes[offset + 1]! << 8);
}
