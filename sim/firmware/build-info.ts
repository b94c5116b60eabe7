/**
 * The build-info record of a simulated MicroPython build: a small, self-describing record right
 * after `esp_app_desc_t` in the app's first (DROM) segment. It carries what a real build carries in
 * its code — the board name, MCU name and behaviour switches (quirks) — so the simulated boot code can
 * read them from the image, and a firmware file alone decides how a simulated board behaves.
 *
 * Layout: 8-byte magic `HILSIMBI`, u32 LE length of the JSON, the UTF-8 JSON
 * `{"boardName":…,"mcuName":…,"quirks":{…}}`.
 */
import { z } from 'zod';
import { APP_DESC_BYTES } from '../../runner/firmware/app-descriptor.ts';
import { readU32, writeU32 } from '../../runner/firmware/byte-fields.ts';
import {
  ESP_IMAGE_MAGIC,
  EXTENDED_HEADER_BYTES,
  IMAGE_HEADER_BYTES,
  SEGMENT_HEADER_BYTES,
} from '../../runner/firmware/esp-image-format.ts';

/** Magic of the record. */
export const BUILD_INFO_MAGIC = new TextEncoder().encode('HILSIMBI');
/** The record never grows beyond this (keeps a corrupt length from reading megabytes). */
export const BUILD_INFO_MAX_BYTES = 4096;

/** A quirk value: a documented behaviour switch the simulated firmware honours. */
export type QuirkValue = string | number | boolean;

/** What a simulated build says about itself beyond `esp_app_desc_t`. */
export interface BuildInfo {
  /** e.g. `Generic ESP32S3 module`. */
  boardName: string;
  /** e.g. `ESP32S3`. */
  mcuName: string;
  quirks: Readonly<Record<string, QuirkValue>>;
}

const buildInfoSchema = z.object({
  boardName: z.string(),
  mcuName: z.string(),
  quirks: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
});

/** Encodes the record. Throws RangeError when it exceeds {@link BUILD_INFO_MAX_BYTES}. */
export function encodeBuildInfo(info: BuildInfo): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify({ boardName: info.boardName, mcuName: info.mcuName, quirks: info.quirks }));
  const total = BUILD_INFO_MAGIC.length + 4 + json.length;
  if (total > BUILD_INFO_MAX_BYTES) throw new RangeError(`build info is ${total} bytes, at most ${BUILD_INFO_MAX_BYTES} allowed`);
  const out = new Uint8Array(total);
  out.set(BUILD_INFO_MAGIC, 0);
  writeU32(out, BUILD_INFO_MAGIC.length, json.length);
  out.set(json, BUILD_INFO_MAGIC.length + 4);
  return out;
}

/** Decodes a record at `offset`, or null when there is none or it is malformed. */
export function decodeBuildInfo(bytes: Uint8Array, offset = 0): BuildInfo | null {
  const magicEnd = offset + BUILD_INFO_MAGIC.length;
  if (magicEnd + 4 > bytes.length) return null;
  for (let i = 0; i < BUILD_INFO_MAGIC.length; i++) if (bytes[offset + i] !== BUILD_INFO_MAGIC[i]) return null;
  const jsonBytes = readU32(bytes, magicEnd);
  if (jsonBytes > BUILD_INFO_MAX_BYTES || magicEnd + 4 + jsonBytes > bytes.length) return null;
  try {
    const parsed = buildInfoSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes.subarray(magicEnd + 4, magicEnd + 4 + jsonBytes))));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** File offset of the record in an application image: after the app descriptor in segment 0. */
export const BUILD_INFO_APP_OFFSET = IMAGE_HEADER_BYTES + EXTENDED_HEADER_BYTES + SEGMENT_HEADER_BYTES + APP_DESC_BYTES;

/**
 * Reads the build-info record of an application image (or of a whole app partition: trailing bytes
 * are ignored). Returns null for images without one — e.g. real MicroPython builds — so callers fall
 * back to per-chip defaults.
 */
export function readBuildInfo(app: Uint8Array): BuildInfo | null {
  if (app[0] !== ESP_IMAGE_MAGIC) return null;
  const firstSegmentBytes = readU32(app, IMAGE_HEADER_BYTES + EXTENDED_HEADER_BYTES + 4);
  const segmentEnd = IMAGE_HEADER_BYTES + EXTENDED_HEADER_BYTES + SEGMENT_HEADER_BYTES + firstSegmentBytes;
  return decodeBuildInfo(app.subarray(0, Math.min(segmentEnd, app.length)), BUILD_INFO_APP_OFFSET);
}
