/**
 * Builds valid, realistic images of simulated MicroPython firmware: an ESP-IDF-style second-stage
 * bootloader, a MicroPython-style partition table and an application image whose first segment
 * starts with `esp_app_desc_t` followed by the build-info record the simulated boot code reads.
 * Tests, demos and benchmarks flash these through the real protocols, so their layout follows real
 * builds (segment kinds and load addresses per chip, MMU-aligned mapped segments, checksum, SHA-256).
 */
import { createHash } from 'node:crypto';
import { appDateFromIso, encodeAppDescriptor } from '../../runner/firmware/app-descriptor.ts';
import { encodeBootloaderDescriptor } from '../../runner/firmware/bootloader-descriptor.ts';
import { DEFAULT_APP_OFFSET, ESP_CHIPS, FLASH_MMU_PAGE_BYTES, PARTITION_TABLE_OFFSET, type ChipName } from '../../runner/firmware/esp-chips.ts';
import { encodeEspImage, nextSegmentDataOffset } from '../../runner/firmware/esp-image-encoder.ts';
import { AppSubtype, DataSubtype, PartitionType, buildPartitionTable, type PartitionEntry } from '../../runner/firmware/partition-table.ts';
import { encodeBuildInfo, type QuirkValue } from './build-info.ts';
import { fillCodeLike, fillRodataLike } from './code-filler.ts';
import { CHIP_BUILD_LAYOUTS } from './chip-build-layouts.ts';

/** ESP-IDF version the simulated builds claim (MicroPython v1.24 builds with IDF v5.2.2). */
export const SIM_IDF_VERSION = 'v5.2.2';
/** Default build date when none is given. */
export const DEFAULT_BUILD_DATE = '2024-01-01';
/** Default application image size: about the size of a MicroPython ESP32 build. */
export const DEFAULT_APP_SIZE_BYTES = 1_500_000;
/** Size of the factory partition in MicroPython's partition tables. */
export const FACTORY_PARTITION_BYTES = 0x1f0000;

/** Options of {@link buildFirmware}. */
export interface FirmwareBuildOptions {
  chip: ChipName;
  /** git-describe style version stored in `esp_app_desc_t`, e.g. `v1.24.1` (≤ 31 bytes). */
  version: string;
  /** Default `micropython`; anything else boots as a foreign application. */
  projectName?: string;
  /** `YYYY-MM-DD`; default {@link DEFAULT_BUILD_DATE}. */
  buildDate?: string;
  /** Default per chip: `Generic ESP32 module` / `Generic ESP32S3 module`. */
  boardName?: string;
  /** Default per chip: `ESP32` / `ESP32S3`. */
  mcuName?: string;
  /**
   * Approximate application image size; default {@link DEFAULT_APP_SIZE_BYTES}. Images are never
   * smaller than about 100 KB (MMU alignment of the code segment) and must fit the 0x1F0000 factory
   * partition (RangeError otherwise).
   */
  appSizeBytes?: number;
  /** Behaviour switches carried in the build-info record. */
  quirks?: Readonly<Record<string, QuirkValue>>;
  /** Flash size written into the headers and used for the `vfs` partition; default 4 MiB (ESP32), 8 MiB (S3). */
  flashSizeBytes?: number;
  /** Seed of the filler content; default derived from the other options, so builds are reproducible. */
  seed?: number;
}

/** One file to write, at its flash offset. */
export interface FirmwarePart {
  name: 'bootloader' | 'partition-table' | 'app';
  offset: number;
  data: Uint8Array;
}

/** The result of {@link buildFirmware}. */
export interface FirmwareBuild {
  chip: ChipName;
  flashSizeBytes: number;
  bootloader: Uint8Array;
  partitionTable: Uint8Array;
  app: Uint8Array;
  /** Flash offset of {@link app}. */
  appOffset: number;
  /** The three parts at their flash offsets, in address order. */
  parts: readonly FirmwarePart[];
  /** One image from flash offset 0 through the end of the app, 0xFF in the gaps (like `esptool merge_bin`). */
  merged(): Uint8Array;
}

/**
 * Builds a simulated firmware. Deterministic: the same options give the same bytes. Throws
 * RangeError on impossible options (flash smaller than 4 MiB, app too large, strings too long,
 * malformed date).
 */
export function buildFirmware(options: FirmwareBuildOptions): FirmwareBuild {
  const layout = CHIP_BUILD_LAYOUTS[options.chip];
  const flashSizeBytes = options.flashSizeBytes ?? layout.defaultFlashSizeBytes;
  if (flashSizeBytes < 4 * 1024 * 1024) throw new RangeError(`MicroPython builds need at least 4 MiB of flash, got ${flashSizeBytes}`);
  if ((options.appSizeBytes ?? 0) > FACTORY_PARTITION_BYTES) {
    throw new RangeError(`app size ${options.appSizeBytes} bytes does not fit the ${FACTORY_PARTITION_BYTES}-byte factory partition`);
  }
  const buildDate = options.buildDate ?? DEFAULT_BUILD_DATE;
  const appDate = appDateFromIso(buildDate);
  const seed = options.seed ?? seedFrom(JSON.stringify([options.chip, options.version, options.projectName, buildDate, options.quirks ?? {}]));

  const header = { chip: options.chip, flashMode: 2 /* DIO */, flashSizeBytes, flashFreqMHz: layout.flashFreqMHz };
  const bootloader = encodeEspImage({
    ...header,
    entryAddress: layout.bootloader.entryAddress,
    segments: layout.bootloader.segments.map((s, i) => {
      // esp_bootloader_desc_t opens the first (DRAM) segment.
      const prefix = i === 0 ? encodeBootloaderDescriptor({ version: 1, idfVersion: SIM_IDF_VERSION, dateTime: `${appDate} 12:00:00` }) : new Uint8Array(0);
      return { loadAddress: s.loadAddress, data: withPrefix(prefix, fillCodeLike(s.lengthBytes - prefix.length, seed + 100 + i)) };
    }),
  });

  const app = buildAppImage(options, { ...header, appDate, seed });
  if (app.length > FACTORY_PARTITION_BYTES) throw new RangeError(`app image of ${app.length} bytes does not fit the ${FACTORY_PARTITION_BYTES}-byte factory partition`);
  const partitionTable = buildPartitionTable(micropythonPartitions(flashSizeBytes));

  const parts: FirmwarePart[] = [
    { name: 'bootloader', offset: ESP_CHIPS[options.chip].bootloaderOffset, data: bootloader },
    { name: 'partition-table', offset: PARTITION_TABLE_OFFSET, data: partitionTable },
    { name: 'app', offset: DEFAULT_APP_OFFSET, data: app },
  ];
  return {
    chip: options.chip,
    flashSizeBytes,
    bootloader,
    partitionTable,
    app,
    appOffset: DEFAULT_APP_OFFSET,
    parts,
    merged() {
      const out = new Uint8Array(DEFAULT_APP_OFFSET + app.length).fill(0xff);
      for (const p of parts) out.set(p.data, p.offset);
      return out;
    },
  };
}

/** MicroPython's layout: nvs, phy_init, a 0x1F0000 factory app at 0x10000, `vfs` (FAT) filling the rest. */
export function micropythonPartitions(flashSizeBytes: number): PartitionEntry[] {
  const vfsOffset = DEFAULT_APP_OFFSET + FACTORY_PARTITION_BYTES;
  return [
    { type: PartitionType.data, subtype: DataSubtype.nvs, offset: 0x9000, sizeBytes: 0x6000, label: 'nvs', flags: 0 },
    { type: PartitionType.data, subtype: DataSubtype.phy, offset: 0xf000, sizeBytes: 0x1000, label: 'phy_init', flags: 0 },
    { type: PartitionType.app, subtype: AppSubtype.factory, offset: DEFAULT_APP_OFFSET, sizeBytes: FACTORY_PARTITION_BYTES, label: 'factory', flags: 0 },
    { type: PartitionType.data, subtype: DataSubtype.fat, offset: vfsOffset, sizeBytes: flashSizeBytes - vfsOffset, label: 'vfs', flags: 0 },
  ];
}

interface AppContext {
  chip: ChipName;
  flashMode: number;
  flashSizeBytes: number;
  flashFreqMHz: number;
  appDate: string;
  seed: number;
}

/** Minimum length of the first IRAM segment, which also absorbs the padding that aligns IROM. */
const MIN_IRAM_HEAD_BYTES = 0x2000;

function buildAppImage(options: FirmwareBuildOptions, ctx: AppContext): Uint8Array {
  const layout = CHIP_BUILD_LAYOUTS[options.chip];
  const total = options.appSizeBytes ?? DEFAULT_APP_SIZE_BYTES;
  const projectName = options.projectName ?? 'micropython';

  const desc = encodeAppDescriptor({
    secureVersion: 0,
    version: options.version,
    projectName,
    time: '12:00:00',
    date: ctx.appDate,
    idfVersion: SIM_IDF_VERSION,
    appElfSha256: new Uint8Array(createHash('sha256').update(`elf:${ctx.seed}:${projectName}:${options.version}`).digest()),
    minEfuseBlkRevFull: 0,
    maxEfuseBlkRevFull: 99,
    mmuPageSizeLog2: 16,
  });
  const buildInfo = encodeBuildInfo({
    boardName: options.boardName ?? layout.defaultBoardName,
    mcuName: options.mcuName ?? layout.defaultMcuName,
    quirks: options.quirks ?? {},
  });

  // Proportions of a MicroPython build: ~22% rodata, ~1% initialised data, ~6% IRAM, the rest code.
  const dromBytes = roundUp4(Math.max(desc.length + buildInfo.length + 1024, Math.round(total * 0.22)));
  const dramBytes = roundUp4(Math.max(1024, Math.round(total * 0.012)));
  const iramBytes = roundUp4(Math.max(2 * MIN_IRAM_HEAD_BYTES, Math.round(total * 0.06)));
  // The IROM data must sit at file offset ≡ its load address (mod 64 KiB); the IRAM head fills the gap.
  const unaligned = nextSegmentDataOffset([dromBytes, dramBytes, 0]);
  let iramHeadBytes = (((layout.app.iromAddress - unaligned) % FLASH_MMU_PAGE_BYTES) + FLASH_MMU_PAGE_BYTES) % FLASH_MMU_PAGE_BYTES;
  if (iramHeadBytes < MIN_IRAM_HEAD_BYTES) iramHeadBytes += FLASH_MMU_PAGE_BYTES;
  const iramTailBytes = roundUp4(Math.max(1024, iramBytes - iramHeadBytes));
  const overhead = nextSegmentDataOffset([dromBytes, dramBytes, iramHeadBytes]) + 8 + 16 + 32;
  const iromBytes = roundUp4(Math.max(4096, total - overhead - iramTailBytes));

  const dromAddress = layout.app.dromAddress(iromBytes);
  const drom = withPrefix(withPrefix(desc, buildInfo), fillRodataLike(dromBytes - desc.length - buildInfo.length, ctx.seed + 1));
  return encodeEspImage({
    chip: ctx.chip,
    flashMode: ctx.flashMode,
    flashSizeBytes: ctx.flashSizeBytes,
    flashFreqMHz: ctx.flashFreqMHz,
    entryAddress: layout.app.iramAddress + layout.app.entryOffset,
    segments: [
      { loadAddress: dromAddress, data: drom },
      { loadAddress: layout.app.dramAddress, data: fillCodeLike(dramBytes, ctx.seed + 2) },
      { loadAddress: layout.app.iramAddress, data: fillCodeLike(iramHeadBytes, ctx.seed + 3) },
      { loadAddress: layout.app.iromAddress, data: fillCodeLike(iromBytes, ctx.seed + 4) },
      { loadAddress: layout.app.iramAddress + iramHeadBytes, data: fillCodeLike(iramTailBytes, ctx.seed + 5) },
    ],
  });
}

function withPrefix(prefix: Uint8Array, rest: Uint8Array): Uint8Array {
  const out = new Uint8Array(prefix.length + rest.length);
  out.set(prefix);
  out.set(rest, prefix.length);
  return out;
}

function roundUp4(n: number): number {
  return (n + 3) & ~3;
}

function seedFrom(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32LE(0);
}
