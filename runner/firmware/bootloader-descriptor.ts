/**
 * `esp_bootloader_desc_t`: the 80-byte record at the start of the second-stage bootloader's first
 * DRAM segment (ESP-IDF v5.1+). Layout from ESP-IDF `components/esp_bootloader_format/include/
 * esp_bootloader_desc.h`, summarised in reference/esptool-protocol.md §9.6.
 */
import { readCString, readU32, writeCString, writeU32 } from './byte-fields.ts';

/** `magic_byte` of `esp_bootloader_desc_t`. */
export const BOOTLOADER_DESC_MAGIC = 0x50;
/** Size of `esp_bootloader_desc_t` in bytes. */
export const BOOTLOADER_DESC_BYTES = 80;

/** The decoded bootloader descriptor. */
export interface EspBootloaderDescriptor {
  /** `CONFIG_BOOTLOADER_PROJECT_VER` (1 by default). */
  version: number;
  /** e.g. `v5.2.2`. */
  idfVersion: string;
  /** `__DATE__ " " __TIME__`, e.g. `Nov 29 2024 12:00:00`. */
  dateTime: string;
}

/** Decodes the descriptor at `offset`, or null when the magic byte is missing or the bytes are short. */
export function parseBootloaderDescriptor(bytes: Uint8Array, offset = 0): EspBootloaderDescriptor | null {
  if (offset < 0 || offset + BOOTLOADER_DESC_BYTES > bytes.length) return null;
  if (bytes[offset] !== BOOTLOADER_DESC_MAGIC) return null;
  return {
    version: readU32(bytes, offset + 4),
    idfVersion: readCString(bytes, offset + 8, 32),
    dateTime: readCString(bytes, offset + 40, 24),
  };
}

/** Encodes a descriptor into its 80-byte form. Throws RangeError when a string does not fit. */
export function encodeBootloaderDescriptor(desc: EspBootloaderDescriptor): Uint8Array {
  const out = new Uint8Array(BOOTLOADER_DESC_BYTES);
  out[0] = BOOTLOADER_DESC_MAGIC;
  writeU32(out, 4, desc.version);
  writeCString(out, 8, 32, desc.idfVersion);
  writeCString(out, 40, 24, desc.dateTime);
  return out;
}
