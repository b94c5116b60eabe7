/**
 * `esp_app_desc_t`: the 256-byte record ESP-IDF places at the start of an application's first DROM
 * segment (file offset 0x20). Layout from ESP-IDF `components/esp_app_format/include/esp_app_desc.h`,
 * summarised in reference/esptool-protocol.md §9.5.
 */
import { readCString, readU16, readU32, writeCString, writeU16, writeU32 } from './byte-fields.ts';

/** `magic_word` of `esp_app_desc_t`. */
export const APP_DESC_MAGIC = 0xabcd5432;
/** Size of `esp_app_desc_t` in bytes. */
export const APP_DESC_BYTES = 256;

/** The decoded application descriptor. Strings are the C strings without padding. */
export interface EspAppDescriptor {
  secureVersion: number;
  /** e.g. `v1.24.1`. */
  version: string;
  /** e.g. `micropython`. */
  projectName: string;
  /** Compile time as `__TIME__`, e.g. `12:00:00`. */
  time: string;
  /** Compile date as `__DATE__`, e.g. `Nov 29 2024` (day padded with a space below 10). */
  date: string;
  /** e.g. `v5.2.2`. */
  idfVersion: string;
  /** SHA-256 of the application ELF file (32 bytes). */
  appElfSha256: Uint8Array;
  minEfuseBlkRevFull: number;
  maxEfuseBlkRevFull: number;
  /** log2 of the MMU page size (16 for 64 KiB). */
  mmuPageSizeLog2: number;
}

/**
 * Decodes the descriptor at `offset`, or returns null when the bytes do not start with
 * {@link APP_DESC_MAGIC} or are too short.
 */
export function parseAppDescriptor(bytes: Uint8Array, offset = 0): EspAppDescriptor | null {
  if (offset < 0 || offset + APP_DESC_BYTES > bytes.length) return null;
  if (readU32(bytes, offset) !== APP_DESC_MAGIC) return null;
  return {
    secureVersion: readU32(bytes, offset + 4),
    version: readCString(bytes, offset + 16, 32),
    projectName: readCString(bytes, offset + 48, 32),
    time: readCString(bytes, offset + 80, 16),
    date: readCString(bytes, offset + 96, 16),
    idfVersion: readCString(bytes, offset + 112, 32),
    appElfSha256: bytes.slice(offset + 144, offset + 176),
    minEfuseBlkRevFull: readU16(bytes, offset + 176),
    maxEfuseBlkRevFull: readU16(bytes, offset + 178),
    mmuPageSizeLog2: bytes[offset + 180] ?? 0,
  };
}

/**
 * Encodes a descriptor into its 256-byte form. Throws RangeError when a string does not fit its
 * field or the ELF hash is not 32 bytes.
 */
export function encodeAppDescriptor(desc: EspAppDescriptor): Uint8Array {
  if (desc.appElfSha256.length !== 32) throw new RangeError('appElfSha256 must be 32 bytes');
  const out = new Uint8Array(APP_DESC_BYTES);
  writeU32(out, 0, APP_DESC_MAGIC);
  writeU32(out, 4, desc.secureVersion);
  writeCString(out, 16, 32, desc.version);
  writeCString(out, 48, 32, desc.projectName);
  writeCString(out, 80, 16, desc.time);
  writeCString(out, 96, 16, desc.date);
  writeCString(out, 112, 32, desc.idfVersion);
  out.set(desc.appElfSha256, 144);
  writeU16(out, 176, desc.minEfuseBlkRevFull);
  writeU16(out, 178, desc.maxEfuseBlkRevFull);
  out[180] = desc.mmuPageSizeLog2;
  return out;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/**
 * Converts an ISO date `YYYY-MM-DD` to the C `__DATE__` form ESP-IDF stores (`Nov 29 2024`,
 * `Nov  9 2024`). Throws RangeError on a malformed date.
 */
export function appDateFromIso(isoDate: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate);
  const month = m ? MONTHS[Number(m[2]) - 1] : undefined;
  const day = m ? Number(m[3]) : 0;
  if (!m || month === undefined || day < 1 || day > 31) throw new RangeError(`not a YYYY-MM-DD date: ${isoDate}`);
  return `${month} ${String(day).padStart(2, ' ')} ${m[1]}`;
}

/** Converts a C `__DATE__` string (`Nov 29 2024`) to `YYYY-MM-DD`, or null when it is not one. */
export function isoDateFromAppDate(appDate: string): string | null {
  const m = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d{4})$/.exec(appDate.trim());
  if (!m) return null;
  const month = MONTHS.indexOf(m[1] as (typeof MONTHS)[number]);
  if (month < 0) return null;
  return `${m[3]}-${String(month + 1).padStart(2, '0')}-${String(Number(m[2])).padStart(2, '0')}`;
}
