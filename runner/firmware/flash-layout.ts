/**
 * Finds what a chip would boot from a whole flash image: the second-stage bootloader at the chip's
 * offset, the partition table at 0x8000 and the factory (else ota_0) application, each parsed and
 * verified. Used by the flasher to inspect a merged image and by the simulated board to boot.
 * Reference: esptool-protocol.md §9.4, §9.8, §10.
 */
import { ESP_CHIPS, PARTITION_TABLE_OFFSET, type ChipName } from './esp-chips.ts';
import { parseEspImage, type EspImageInfo } from './esp-image.ts';
import {
  PARTITION_TABLE_MAX_BYTES,
  findBootPartition,
  findFilesystemPartition,
  parsePartitionTable,
  type PartitionEntry,
  type PartitionTableInfo,
} from './partition-table.ts';

/** Read access to flash contents (a `FlashStore` or a byte array through {@link flashReaderFromBytes}). */
export interface FlashReader {
  /** Total flash size in bytes. */
  readonly sizeBytes: number;
  /** A copy of `length` bytes at `offset`; the range lies within the flash. */
  read(offset: number, length: number): Uint8Array;
}

/**
 * Wraps a (possibly shorter) flash image as a {@link FlashReader} of `sizeBytes` (default: the image
 * length). Bytes beyond the image read as erased (0xFF).
 */
export function flashReaderFromBytes(image: Uint8Array, sizeBytes = image.length): FlashReader {
  return {
    sizeBytes,
    read(offset, length) {
      const out = new Uint8Array(length).fill(0xff);
      if (offset < image.length) out.set(image.subarray(offset, Math.min(offset + length, image.length)));
      return out;
    },
  };
}

/** What a chip would boot, stage by stage. Later stages are null when an earlier one is unusable. */
export interface BootTarget {
  chip: ChipName;
  bootloaderOffset: number;
  bootloader: EspImageInfo;
  /** Null when the partition table could not be read because the flash is too small. */
  partitionTable: PartitionTableInfo | null;
  /** The factory or ota_0 partition, null when the table has neither. */
  appPartition: PartitionEntry | null;
  /** The application image in {@link appPartition}, verified against the chip. */
  app: EspImageInfo | null;
  /** The MicroPython filesystem partition (`vfs`), when the table has one. */
  filesystemPartition: PartitionEntry | null;
  /** True when bootloader, table and app are all usable. */
  bootable: boolean;
}

/**
 * Inspects `flash` the way the ROM and the second-stage bootloader of `chip` would. Never throws for
 * malformed contents; every defect is in the stage results' `problems`.
 */
export function locateBootApp(flash: FlashReader | Uint8Array, chip: ChipName): BootTarget {
  const reader = flash instanceof Uint8Array ? flashReaderFromBytes(flash) : flash;
  const bootloaderOffset = ESP_CHIPS[chip].bootloaderOffset;
  const readClamped = (offset: number, length: number): Uint8Array =>
    offset >= reader.sizeBytes ? new Uint8Array(0) : reader.read(offset, Math.min(length, reader.sizeBytes - offset));

  // The bootloader must end below the partition table.
  const bootloader = parseEspImage(readClamped(bootloaderOffset, PARTITION_TABLE_OFFSET - bootloaderOffset), {
    expect: 'bootloader',
    expectedChip: chip,
    flashOffset: bootloaderOffset,
  });
  const target: BootTarget = {
    chip,
    bootloaderOffset,
    bootloader,
    partitionTable: null,
    appPartition: null,
    app: null,
    filesystemPartition: null,
    bootable: false,
  };
  if (PARTITION_TABLE_OFFSET + PARTITION_TABLE_MAX_BYTES > reader.sizeBytes) return target;
  const table = parsePartitionTable(reader.read(PARTITION_TABLE_OFFSET, PARTITION_TABLE_MAX_BYTES));
  target.partitionTable = table;
  target.filesystemPartition = findFilesystemPartition(table.entries);
  const appPartition = table.ok ? findBootPartition(table.entries) : null;
  target.appPartition = appPartition;
  if (appPartition !== null) {
    target.app = parseEspImage(readClamped(appPartition.offset, appPartition.sizeBytes), {
      expect: 'app',
      expectedChip: chip,
      flashOffset: appPartition.offset,
    });
  }
  target.bootable = bootloader.ok && table.ok && target.app !== null && target.app.ok;
  return target;
}
