/**
 * ESP-IDF partition table: parse and build the binary form (32-byte entries, optional MD5 entry,
 * erased flash ends it). Source: ESP-IDF `components/partition_table/gen_esp32part.py` and
 * `bootloader_support/src/flash_partitions.c`; reference/esptool-protocol.md §10.
 */
import { createHash } from 'node:crypto';
import { hex32, readCString, readU16, readU32, toHex, writeCString, writeU32 } from './byte-fields.ts';

/** Maximum table length: 0xC00 bytes (96 entries) of the 4 KiB sector at 0x8000. */
export const PARTITION_TABLE_MAX_BYTES = 0xc00;
/** Length of one entry. */
export const PARTITION_ENTRY_BYTES = 32;
/** Magic of a partition entry (bytes `AA 50`). */
export const PARTITION_MAGIC = 0x50aa;
/** Magic of the MD5 entry (bytes `EB EB`). */
export const PARTITION_MD5_MAGIC = 0xebeb;

/** Partition types. */
export const PartitionType = Object.freeze({ app: 0x00, data: 0x01 });

/** App subtypes (`ota_n` = `ota0 + n`, n ≤ 15). */
export const AppSubtype = Object.freeze({ factory: 0x00, ota0: 0x10, test: 0x20 });

/** Data subtypes. */
export const DataSubtype = Object.freeze({
  ota: 0x00,
  phy: 0x01,
  nvs: 0x02,
  coredump: 0x03,
  nvsKeys: 0x04,
  efuse: 0x05,
  esphttpd: 0x80,
  fat: 0x81,
  spiffs: 0x82,
  littlefs: 0x83,
});

/** App partitions must start on a 64 KiB boundary. */
export const APP_PARTITION_ALIGN_BYTES = 0x10000;

/** One partition. */
export interface PartitionEntry {
  type: number;
  subtype: number;
  /** Flash offset in bytes. */
  offset: number;
  sizeBytes: number;
  /** Up to 16 bytes. */
  label: string;
  /** Bit 0: encrypted. */
  flags: number;
}

/** Stable codes of partition-table defects. */
export type PartitionTableProblemCode =
  /** No partition entries at all (erased sector). */
  | 'EMPTY'
  /** An entry with an unknown magic before the end marker. */
  | 'BAD_ENTRY'
  /** The MD5 entry does not match the entries before it. */
  | 'BAD_MD5'
  /** Two partitions overlap. */
  | 'OVERLAP'
  /** An app partition not on a 64 KiB boundary. */
  | 'MISALIGNED_APP';

/** One defect. `entryIndex` is the 0-based entry it concerns. */
export interface PartitionTableProblem {
  code: PartitionTableProblemCode;
  message: string;
  entryIndex?: number;
}

/** Result of {@link parsePartitionTable}. */
export interface PartitionTableInfo {
  ok: boolean;
  problems: PartitionTableProblem[];
  entries: PartitionEntry[];
  /** Present when the table carries an MD5 entry. */
  md5: { stored: string; computed: string } | null;
}

/**
 * Parses a partition table (the bytes at 0x8000; up to {@link PARTITION_TABLE_MAX_BYTES} are read).
 * Never throws for malformed input.
 */
export function parsePartitionTable(bytes: Uint8Array): PartitionTableInfo {
  const info: PartitionTableInfo = { ok: false, problems: [], entries: [], md5: null };
  const limit = Math.min(bytes.length, PARTITION_TABLE_MAX_BYTES);
  for (let i = 0; (i + 1) * PARTITION_ENTRY_BYTES <= limit; i++) {
    const at = i * PARTITION_ENTRY_BYTES;
    const magic = readU16(bytes, at);
    if (magic === PARTITION_MAGIC) {
      info.entries.push({
        type: bytes[at + 2] ?? 0,
        subtype: bytes[at + 3] ?? 0,
        offset: readU32(bytes, at + 4),
        sizeBytes: readU32(bytes, at + 8),
        label: readCString(bytes, at + 12, 16),
        flags: readU32(bytes, at + 28),
      });
      continue;
    }
    if (magic === PARTITION_MD5_MAGIC) {
      const stored = toHex(bytes.subarray(at + 16, at + 32));
      const computed = createHash('md5').update(bytes.subarray(0, at)).digest('hex');
      info.md5 = { stored, computed };
      if (stored !== computed) {
        info.problems.push({ code: 'BAD_MD5', message: `partition table MD5 mismatch: calculated ${computed}, read ${stored}`, entryIndex: i });
      }
      continue;
    }
    if (magic === 0xffff) break;
    info.problems.push({ code: 'BAD_ENTRY', message: `partition ${i} invalid magic number 0x${magic.toString(16)}`, entryIndex: i });
    break;
  }
  if (info.entries.length === 0 && info.problems.length === 0) {
    info.problems.push({ code: 'EMPTY', message: 'partition table is empty (erased flash?)' });
  }
  info.entries.forEach((e, i) => {
    if (e.type === PartitionType.app && e.offset % APP_PARTITION_ALIGN_BYTES !== 0) {
      info.problems.push({ code: 'MISALIGNED_APP', message: `app partition "${e.label}" at ${hex32(e.offset)} is not 64 KiB aligned`, entryIndex: i });
    }
    for (let j = 0; j < i; j++) {
      const o = info.entries[j];
      if (o !== undefined && e.offset < o.offset + o.sizeBytes && o.offset < e.offset + e.sizeBytes) {
        info.problems.push({ code: 'OVERLAP', message: `partition "${e.label}" overlaps "${o.label}"`, entryIndex: i });
      }
    }
  });
  info.ok = info.problems.length === 0;
  return info;
}

/**
 * Builds the binary table: the entries, then (by default) the MD5 entry, padded with 0xFF to
 * {@link PARTITION_TABLE_MAX_BYTES}, like `gen_esp32part.py`. Throws RangeError when too many entries
 * are given or a label does not fit in 16 bytes.
 */
export function buildPartitionTable(entries: readonly PartitionEntry[], options: { withMd5?: boolean } = {}): Uint8Array {
  const withMd5 = options.withMd5 ?? true;
  const slots = entries.length + (withMd5 ? 1 : 0);
  // Leave at least one erased entry as the end marker.
  if ((slots + 1) * PARTITION_ENTRY_BYTES > PARTITION_TABLE_MAX_BYTES) {
    throw new RangeError(`too many partitions: ${entries.length}`);
  }
  const out = new Uint8Array(PARTITION_TABLE_MAX_BYTES).fill(0xff);
  entries.forEach((e, i) => {
    const at = i * PARTITION_ENTRY_BYTES;
    out[at] = 0xaa;
    out[at + 1] = 0x50;
    out[at + 2] = e.type;
    out[at + 3] = e.subtype;
    writeU32(out, at + 4, e.offset);
    writeU32(out, at + 8, e.sizeBytes);
    writeCString(out, at + 12, 16, e.label);
    writeU32(out, at + 28, e.flags);
  });
  if (withMd5) {
    const at = entries.length * PARTITION_ENTRY_BYTES;
    out[at] = 0xeb;
    out[at + 1] = 0xeb;
    out.fill(0xff, at + 2, at + 16);
    out.set(createHash('md5').update(out.subarray(0, at)).digest(), at + 16);
  }
  return out;
}

/** The partition the bootloader starts: the factory app, else ota_0 (otadata is not consulted). */
export function findBootPartition(entries: readonly PartitionEntry[]): PartitionEntry | null {
  const app = (subtype: number) => entries.find((e) => e.type === PartitionType.app && e.subtype === subtype);
  return app(AppSubtype.factory) ?? app(AppSubtype.ota0) ?? null;
}

/**
 * The data partition holding the MicroPython filesystem: the one labelled `vfs`, else the first FAT
 * or LittleFS data partition.
 */
export function findFilesystemPartition(entries: readonly PartitionEntry[]): PartitionEntry | null {
  const data = entries.filter((e) => e.type === PartitionType.data);
  return (
    data.find((e) => e.label === 'vfs') ??
    data.find((e) => e.subtype === DataSubtype.fat || e.subtype === DataSubtype.littlefs) ??
    null
  );
}
