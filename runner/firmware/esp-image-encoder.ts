/**
 * Serialises an ESP image from its parts: header, extended header, segments, XOR checksum and the
 * optional appended SHA-256 (reference/esptool-protocol.md §9.1–9.3). The inverse of `parseEspImage`.
 */
import { createHash } from 'node:crypto';
import { writeU16, writeU32 } from './byte-fields.ts';
import { ESP_CHIPS, type ChipName } from './esp-chips.ts';
import {
  CHECKSUM_SEED,
  ESP_IMAGE_MAGIC,
  EXTENDED_HEADER_BYTES,
  IMAGE_HEADER_BYTES,
  MAX_SEGMENTS,
  SEGMENT_HEADER_BYTES,
  SHA256_BYTES,
  WP_PIN_UNUSED,
  flashFreqCode,
  flashSizeCode,
} from './esp-image-format.ts';

/** One segment to encode. Data is zero-padded to a multiple of 4 bytes, as esptool does. */
export interface EspImageSegmentSpec {
  loadAddress: number;
  data: Uint8Array;
}

/** Everything needed to encode an image. */
export interface EspImageSpec {
  chip: ChipName;
  /** 0 QIO, 1 QOUT, 2 DIO (usual), 3 DOUT. */
  flashMode: number;
  flashSizeBytes: number;
  flashFreqMHz: number;
  entryAddress: number;
  segments: readonly EspImageSegmentSpec[];
  /** Default true: append the SHA-256 of the image. */
  hashAppended?: boolean;
  /** Default 0. */
  minRevFull?: number;
  /** Default: the chip's ESP-IDF default (§9.2). */
  maxRevFull?: number;
}

/**
 * Encodes an image. Throws RangeError when the segment count is outside 1…16 or a header field
 * cannot be expressed (unknown flash size or frequency).
 */
export function encodeEspImage(spec: EspImageSpec): Uint8Array {
  if (spec.segments.length === 0 || spec.segments.length > MAX_SEGMENTS) {
    throw new RangeError(`an image holds 1…${MAX_SEGMENTS} segments, got ${spec.segments.length}`);
  }
  const padded = spec.segments.map((s) => ({ loadAddress: s.loadAddress, data: padTo4(s.data) }));
  let length = IMAGE_HEADER_BYTES + EXTENDED_HEADER_BYTES;
  for (const s of padded) length += SEGMENT_HEADER_BYTES + s.data.length;
  const checksumOffset = length + ((15 - (length % 16) + 16) % 16);
  const hashAppended = spec.hashAppended ?? true;
  const total = checksumOffset + 1 + (hashAppended ? SHA256_BYTES : 0);

  const out = new Uint8Array(total);
  out[0] = ESP_IMAGE_MAGIC;
  out[1] = padded.length;
  out[2] = spec.flashMode;
  out[3] = (flashSizeCode(spec.flashSizeBytes) << 4) | flashFreqCode(spec.flashFreqMHz);
  writeU32(out, 4, spec.entryAddress);
  out[8] = WP_PIN_UNUSED;
  // Bytes 9–11: SPI pin drive settings, 0 = default.
  writeU16(out, 12, ESP_CHIPS[spec.chip].imageChipId);
  out[14] = 0; // min_rev (deprecated)
  writeU16(out, 15, spec.minRevFull ?? 0);
  writeU16(out, 17, spec.maxRevFull ?? ESP_CHIPS[spec.chip].defaultMaxRevFull);
  out[23] = hashAppended ? 1 : 0;

  let pos = IMAGE_HEADER_BYTES + EXTENDED_HEADER_BYTES;
  let checksum = CHECKSUM_SEED;
  for (const s of padded) {
    writeU32(out, pos, s.loadAddress);
    writeU32(out, pos + 4, s.data.length);
    out.set(s.data, pos + SEGMENT_HEADER_BYTES);
    for (const b of s.data) checksum ^= b;
    pos += SEGMENT_HEADER_BYTES + s.data.length;
  }
  out[checksumOffset] = checksum;
  if (hashAppended) {
    out.set(createHash('sha256').update(out.subarray(0, checksumOffset + 1)).digest(), checksumOffset + 1);
  }
  return out;
}

/**
 * File offset at which the data of the next segment would start, given the lengths of the segments
 * before it. Builders use it to place flash-mapped segments at MMU-aligned offsets.
 */
export function nextSegmentDataOffset(previousSegmentLengths: readonly number[]): number {
  let pos = IMAGE_HEADER_BYTES + EXTENDED_HEADER_BYTES;
  for (const len of previousSegmentLengths) pos += SEGMENT_HEADER_BYTES + roundUp4(len);
  return pos + SEGMENT_HEADER_BYTES;
}

function roundUp4(n: number): number {
  return (n + 3) & ~3;
}

function padTo4(data: Uint8Array): Uint8Array {
  if (data.length % 4 === 0) return data;
  const out = new Uint8Array(roundUp4(data.length));
  out.set(data);
  return out;
}
