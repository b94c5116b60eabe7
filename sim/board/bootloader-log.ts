/**
 * ESP-IDF-style log lines of the simulated second-stage bootloader and app start-up
 * (`I (31) boot: …`), with deterministic, plausible timestamps. Message texts follow ESP-IDF v5.2
 * (`bootloader_support/src/bootloader_utility.c`, `esp_image_format.c`, `flash_partitions.c`,
 * `bootloader_common.c`, `esp_system/startup.c`).
 */
import type { EspImageProblem, EspImageSegment } from '../../runner/firmware/esp-image.ts';
import { DataSubtype, PartitionType, type PartitionEntry, type PartitionTableProblem } from '../../runner/firmware/partition-table.ts';

/** Accumulates log lines with a running millisecond timestamp. */
export class IdfLog {
  readonly lines: string[] = [];
  #ms: number;

  /** @param startMs timestamp of the first line (ms since reset) */
  constructor(startMs: number) {
    this.#ms = startMs;
  }

  /** Adds an info line, then advances the clock by `costMs`. */
  info(tag: string, message: string, costMs = 4): void {
    this.#add('I', tag, message, costMs);
  }

  /** Adds an error line. */
  error(tag: string, message: string, costMs = 4): void {
    this.#add('E', tag, message, costMs);
  }

  /** Adds raw lines (ROM text, app output) without advancing the clock. */
  raw(...lines: string[]): void {
    this.lines.push(...lines);
  }

  #add(level: 'I' | 'E', tag: string, message: string, costMs: number): void {
    this.lines.push(`${level} (${Math.round(this.#ms)}) ${tag}: ${message}`);
    this.#ms += costMs;
  }
}

/** The "Usage" column of the partition listing. */
function partitionUsage(p: PartitionEntry): string {
  if (p.type === PartitionType.app) {
    if (p.subtype === 0x00) return 'factory app';
    if (p.subtype >= 0x10 && p.subtype <= 0x1f) return `OTA app`;
    if (p.subtype === 0x20) return 'test app';
    return 'Unknown app';
  }
  if (p.type === PartitionType.data) {
    switch (p.subtype) {
      case DataSubtype.ota:
        return 'OTA data';
      case DataSubtype.phy:
        return 'RF data';
      case DataSubtype.nvs:
        return 'WiFi data';
      case DataSubtype.nvsKeys:
        return 'NVS keys';
      case DataSubtype.efuse:
        return 'efuse';
      default:
        return 'Unknown data';
    }
  }
  return 'unknown';
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');
const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
/** ESP-IDF's `0x%x`. */
const hexShort = (n: number) => `0x${(n >>> 0).toString(16)}`;

/** The bootloader's partition listing. */
export function logPartitionTable(log: IdfLog, entries: readonly PartitionEntry[]): void {
  log.info('boot', 'Partition Table:');
  log.info('boot', '## Label            Usage          Type ST Offset   Length', 7);
  entries.forEach((p, i) => {
    log.info('boot', `${String(i).padStart(2)} ${p.label.padEnd(16)} ${partitionUsage(p).padEnd(16)} ${hex2(p.type)} ${hex2(p.subtype)} ${hex8(p.offset)} ${hex8(p.sizeBytes)}`, 7);
  });
  log.info('boot', 'End of partition table');
}

/** Error lines for an unusable partition table (the first problem is reported, as ESP-IDF stops there). */
export function logPartitionTableFailure(log: IdfLog, problem: PartitionTableProblem | undefined): void {
  const index = problem?.entryIndex ?? 0;
  switch (problem?.code) {
    case 'BAD_MD5':
      log.error('flash_parts', 'Incorrect MD5 checksum');
      break;
    case 'OVERLAP':
    case 'MISALIGNED_APP':
      log.error('flash_parts', `partition ${index} invalid: ${problem.message}`);
      break;
    case 'BAD_ENTRY':
    case 'EMPTY':
    default:
      log.error('flash_parts', problem?.code === 'BAD_ENTRY' ? problem.message : 'partition 0 invalid magic number 0xffff');
      break;
  }
  log.error('boot', 'Failed to verify partition table');
  log.error('boot', 'load partition table error!');
}

/** Error line for the first fatal problem of an app image at `offset`. */
export function logAppImageFailure(log: IdfLog, offset: number, problem: EspImageProblem, expectedChipId: number, foundChipId: number | null): void {
  switch (problem.code) {
    case 'BAD_MAGIC':
      log.error('esp_image', `image at ${hexShort(offset)} has invalid magic byte (nothing flashed here?)`);
      break;
    case 'WRONG_CHIP':
    case 'UNKNOWN_CHIP':
      log.error('boot_comm', `mismatch chip ID, expected ${expectedChipId}, found ${foundChipId ?? 'unknown'}`);
      break;
    case 'BAD_CHECKSUM':
      log.error('esp_image', `Checksum failed. ${problem.message.replace(/^checksum failed: /, '')}`);
      break;
    case 'BAD_SHA256':
      log.error('esp_image', 'Image hash failed - image is corrupt');
      break;
    case 'MISALIGNED_SEGMENT':
      log.error('esp_image', `Segment load address doesn't match data address (image at ${hexShort(offset)})`);
      break;
    case 'BAD_SEGMENT_COUNT':
      log.error('esp_image', `image at ${hexShort(offset)} has invalid segment count`);
      break;
    case 'TRUNCATED':
    default:
      log.error('esp_image', `image at ${hexShort(offset)} is truncated: ${problem.message}`);
      break;
  }
}

/** The bootloader's per-segment lines while loading the app. */
export function logAppSegments(log: IdfLog, partitionOffset: number, segments: readonly EspImageSegment[]): void {
  for (const s of segments) {
    const size = s.lengthBytes.toString(16).padStart(5, '0');
    const mode = s.flashMapped ? 'map' : 'load';
    // Mapping is fast; loading into RAM costs about 1 ms per 10 KB at 40 MHz DIO.
    log.info('esp_image', `segment ${s.index}: paddr=${hex8(partitionOffset + s.dataOffset)} vaddr=${hex8(s.loadAddress)} size=${size}h (${String(s.lengthBytes).padStart(6)}) ${mode}`, s.flashMapped ? 8 : 2 + s.lengthBytes / 10_000);
  }
}
