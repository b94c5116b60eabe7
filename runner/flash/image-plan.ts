/**
 * Turns a user's firmware file into the parts to flash, refusing bad input before anything touches a
 * board. Understands (a) merged images (`esptool merge_bin` style: bootloader at the chip's offset,
 * partition table at 0x8000, app at its partition) and (b) bare application images (written at the
 * app offset, 0x10000 by default). Format facts: reference/esptool-protocol.md §9, §10.
 */
import { readFile, stat } from 'node:fs/promises';
import { HilError, type ErrorCode } from '../errors.ts';
import { hex32 } from '../firmware/byte-fields.ts';
import { chipForImageId, DEFAULT_APP_OFFSET, ESP_CHIPS, PARTITION_TABLE_OFFSET, type ChipName } from '../firmware/esp-chips.ts';
import { ESP_IMAGE_MAGIC, formatFlashSize } from '../firmware/esp-image-format.ts';
import { parseEspImage, type EspImageInfo, type EspImageProblem } from '../firmware/esp-image.ts';
import { flashReaderFromBytes, locateBootApp } from '../firmware/flash-layout.ts';
import { PARTITION_MAGIC, PARTITION_TABLE_MAX_BYTES } from '../firmware/partition-table.ts';
import type { FlashPart } from './flasher.ts';
import { SECTOR_BYTES } from './sector-diff.ts';

/** The board an image is planned for. */
export interface ImagePlanTarget {
  chip: ChipName;
  /** The board's flash size; when known, images that do not fit are refused. */
  flashSizeBytes?: number;
  /** Named in error messages. */
  boardId?: string;
  /** Where a bare app image goes; default 0x10000 (MicroPython's factory partition). */
  appOffset?: number;
}

/** A checked firmware file, ready to flash. */
export interface ImagePlan {
  /** `merged` (bootloader + partition table + app) or `app` (bare application image). */
  kind: 'merged' | 'app';
  parts: FlashPart[];
  chip: ChipName;
  /** `esp_app_desc_t.version`, e.g. `v1.24.1`. */
  appVersion: string;
  /** `esp_app_desc_t.project_name`, e.g. `micropython`. */
  projectName: string;
  /** Lowercase hex SHA-256 appended to the app image, or null when the image carries none. */
  appSha256: string | null;
  /** Human-readable lines: kind, chip, version, flash settings, parts. */
  summary: string[];
}

/**
 * Reads and checks `path` (FIRMWARE_INVALID for a missing path, a directory, an empty, truncated,
 * corrupt or oversized image; FLASH_CHIP_MISMATCH for another chip's image). Never touches a board.
 */
export async function planImageFile(path: string, target: ImagePlanTarget): Promise<ImagePlan> {
  return planImageBytes(await readFirmwareFile(path, target.boardId), path, target);
}

/**
 * Reads a firmware file: FIRMWARE_INVALID naming the path when it is missing, a directory or
 * unreadable. (An empty file is refused by {@link planImageBytes}.)
 */
export async function readFirmwareFile(path: string, boardId?: string): Promise<Uint8Array> {
  const ev = evidence(path, boardId === undefined ? { chip: 'esp32' } : { chip: 'esp32', boardId });
  const fail = (problem: string, cause?: unknown): HilError =>
    new HilError('FIRMWARE_INVALID', `${path}: ${problem}`, ev, cause === undefined ? undefined : { cause });
  let isFile: boolean;
  try {
    isFile = (await stat(path)).isFile();
  } catch (err: unknown) {
    throw fail('no such file', err);
  }
  if (!isFile) throw fail('is a directory or not a regular file, expected a firmware image (.bin)');
  try {
    return new Uint8Array(await readFile(path));
  } catch (err: unknown) {
    throw fail(`cannot be read (${err instanceof Error ? err.message : String(err)})`, err);
  }
}

/**
 * The chip a firmware file names in its own image header (at 0, or at 0x1000 for a merged ESP32
 * image); null when neither place holds an ESP image header with a known chip id.
 */
export function detectImageChip(bytes: Uint8Array): ChipName | null {
  for (const offset of [0, ESP_CHIPS.esp32.bootloaderOffset]) {
    const chipId = parseEspImage(bytes.subarray(offset)).extendedHeader?.chipId;
    const chip = chipId === undefined ? null : chipForImageId(chipId);
    if (chip !== null) return chip;
  }
  return null;
}

/** Same as {@link planImageFile} for bytes already in memory; `file` names them in errors. */
export function planImageBytes(bytes: Uint8Array, file: string, target: ImagePlanTarget): ImagePlan {
  const ev = evidence(file, target);
  const fail = (code: ErrorCode, problem: string, extra: Record<string, unknown> = {}): HilError =>
    new HilError(code, `${file}: ${problem}`, { ...ev, ...extra });
  if (bytes.length === 0) throw fail('FIRMWARE_INVALID', 'file is empty');

  // Try the board's chip layout first, then the others, so a merged image for another chip is
  // reported as such instead of as "not an ESP image".
  const offsets = [ESP_CHIPS[target.chip].bootloaderOffset, ...Object.values(ESP_CHIPS).map((c) => c.bootloaderOffset)];
  const mergedOffset = offsets.find((o) => isMergedLayout(bytes, o));
  const plan = mergedOffset === undefined ? planBareApp(bytes, target, fail) : planMerged(bytes, mergedOffset, target, fail);

  const end = Math.max(...plan.parts.map((p) => p.offset + p.data.length));
  if (target.flashSizeBytes !== undefined && end > target.flashSizeBytes) {
    throw fail('FIRMWARE_INVALID', `image ends at ${hex32(end)}, beyond the board's ${sizeText(target.flashSizeBytes)} flash`);
  }
  return plan;
}

type Fail = (code: ErrorCode, problem: string, extra?: Record<string, unknown>) => HilError;

/** A merged image has the chip's bootloader at its offset and a partition table at 0x8000 (§9.4, §10). */
function isMergedLayout(bytes: Uint8Array, bootloaderOffset: number): boolean {
  if (bytes.length < PARTITION_TABLE_OFFSET + 2) return false;
  const tableMagic = (bytes[PARTITION_TABLE_OFFSET] ?? 0) | ((bytes[PARTITION_TABLE_OFFSET + 1] ?? 0) << 8);
  // A merged ESP32 image starts with 0xFF padding below its bootloader at 0x1000.
  const padded = bytes.subarray(0, bootloaderOffset).every((b) => b === 0xff);
  return padded && bytes[bootloaderOffset] === ESP_IMAGE_MAGIC && tableMagic === PARTITION_MAGIC;
}

function planBareApp(bytes: Uint8Array, target: ImagePlanTarget, fail: Fail): ImagePlan {
  const offset = target.appOffset ?? DEFAULT_APP_OFFSET;
  const info = parseEspImage(bytes, { expect: 'app', expectedChip: target.chip, flashOffset: offset });
  if (!info.ok) {
    // A bootloader alone has no app descriptor; say what it is rather than "not an application".
    if (info.bootloaderDescriptor !== null && info.problems.every((p) => p.code === 'NO_APP_DESC')) {
      throw fail('FIRMWARE_INVALID', 'is a second-stage bootloader image, not an application or merged image');
    }
    throw imageFailure(info, 'application image', fail);
  }
  const desc = info.appDescriptor;
  if (desc === null || info.imageLengthBytes === null) throw fail('FIRMWARE_INVALID', 'not an ESP-IDF application image');
  checkHeaderFlashSize(info, target, fail);
  const parts: FlashPart[] = [{ name: 'app', offset, data: bytes }];
  return finish('app', parts, target.chip, info, [`bare application image, written at ${hex32(offset)}`]);
}

function planMerged(bytes: Uint8Array, foundOffset: number, target: ImagePlanTarget, fail: Fail): ImagePlan {
  const chip = target.chip;
  const bootloaderOffset = ESP_CHIPS[chip].bootloaderOffset;
  // The bootloader's header names its chip; check that first so a foreign merged image says so.
  const firstLook = parseEspImage(bytes.subarray(foundOffset, PARTITION_TABLE_OFFSET), { expectedChip: chip });
  const chipProblem = firstLook.problems.find((p) => p.code === 'WRONG_CHIP' || p.code === 'UNKNOWN_CHIP');
  if (chipProblem !== undefined) throw fail('FLASH_CHIP_MISMATCH', `merged image bootloader ${chipProblem.message}`, { problems: [chipProblem.code] });
  if (foundOffset !== bootloaderOffset) {
    throw fail('FLASH_CHIP_MISMATCH', `merged image has its bootloader at ${hex32(foundOffset)}, but ${ESP_CHIPS[chip].displayName} boots from ${hex32(bootloaderOffset)}`);
  }

  const boot = locateBootApp(flashReaderFromBytes(bytes, Math.max(bytes.length, PARTITION_TABLE_OFFSET + PARTITION_TABLE_MAX_BYTES)), chip);
  if (!boot.bootloader.ok) throw imageFailure(boot.bootloader, `bootloader at ${hex32(bootloaderOffset)}`, fail);
  const table = boot.partitionTable;
  if (table === null || !table.ok) {
    throw fail('FIRMWARE_INVALID', `partition table at ${hex32(PARTITION_TABLE_OFFSET)}: ${table?.problems.map((p) => p.message).join('; ') ?? 'missing'}`);
  }
  const appPartition = boot.appPartition;
  if (appPartition === null) throw fail('FIRMWARE_INVALID', 'partition table has no factory or ota_0 app partition');
  if (appPartition.offset >= bytes.length) throw fail('FIRMWARE_INVALID', `file ends at ${hex32(bytes.length)}, before the app partition at ${hex32(appPartition.offset)} (truncated merged image?)`);
  const app = parseEspImage(bytes.subarray(appPartition.offset, appPartition.offset + appPartition.sizeBytes), {
    expect: 'app',
    expectedChip: chip,
    flashOffset: appPartition.offset,
  });
  if (!app.ok || app.imageLengthBytes === null) throw imageFailure(app, `app at ${hex32(appPartition.offset)}`, fail);
  if (app.imageLengthBytes > appPartition.sizeBytes) {
    throw fail('FIRMWARE_INVALID', `app image (${app.imageLengthBytes} bytes) is larger than its partition "${appPartition.label}" (${appPartition.sizeBytes} bytes)`);
  }
  const bootloaderLength = boot.bootloader.imageLengthBytes ?? 0;
  checkHeaderFlashSize(boot.bootloader, target, fail);
  const appEnd = appPartition.offset + app.imageLengthBytes;
  const parts: FlashPart[] = [
    { name: 'bootloader', offset: bootloaderOffset, data: bytes.subarray(bootloaderOffset, bootloaderOffset + bootloaderLength) },
    { name: 'partition-table', offset: PARTITION_TABLE_OFFSET, data: bytes.subarray(PARTITION_TABLE_OFFSET, PARTITION_TABLE_OFFSET + PARTITION_TABLE_MAX_BYTES) },
    { name: 'app', offset: appPartition.offset, data: bytes.subarray(appPartition.offset, appEnd) },
  ];
  // Anything non-erased after the app (e.g. a filesystem image) is written too, from the next sector.
  const extraStart = Math.ceil(appEnd / SECTOR_BYTES) * SECTOR_BYTES;
  const extraEnd = lastNonErased(bytes) + 1;
  if (extraEnd > extraStart) parts.push({ name: `data@${hex32(extraStart)}`, offset: extraStart, data: bytes.subarray(extraStart, extraEnd) });
  return finish('merged', parts, chip, app, [`merged image: bootloader ${hex32(bootloaderOffset)}, partition table ${hex32(PARTITION_TABLE_OFFSET)}, app "${appPartition.label}" ${hex32(appPartition.offset)}`]);
}

/** The image header's flash size must not exceed the board's: the bootloader would address missing flash. */
function checkHeaderFlashSize(info: EspImageInfo, target: ImagePlanTarget, fail: Fail): void {
  const headerSize = info.header?.flashSizeBytes ?? null;
  if (target.flashSizeBytes !== undefined && headerSize !== null && headerSize > target.flashSizeBytes) {
    throw fail('FIRMWARE_INVALID', `image is built for ${formatFlashSize(headerSize)} flash, larger than the board's ${sizeText(target.flashSizeBytes)}`);
  }
}

function imageFailure(info: EspImageInfo, what: string, fail: Fail): HilError {
  const problems = info.problems;
  const codes = problems.map((p) => p.code);
  const describe = (p: EspImageProblem): string => p.message;
  const detail = problems.map(describe).join('; ');
  if (codes.includes('WRONG_CHIP') || codes.includes('UNKNOWN_CHIP')) return fail('FLASH_CHIP_MISMATCH', `${what}: ${detail}`, { problems: codes });
  const lead = codes.includes('BAD_MAGIC')
    ? 'not an ESP image'
    : codes.includes('TRUNCATED')
      ? 'truncated'
      : codes.includes('BAD_CHECKSUM')
        ? 'bad checksum'
        : codes.includes('BAD_SHA256')
          ? 'bad SHA-256'
          : 'invalid';
  return fail('FIRMWARE_INVALID', `${what} is ${lead}: ${detail}`, { problems: codes });
}

function finish(kind: ImagePlan['kind'], parts: FlashPart[], chip: ChipName, app: EspImageInfo, head: string[]): ImagePlan {
  const desc = app.appDescriptor;
  const appVersion = desc?.version ?? '';
  const projectName = desc?.projectName ?? '';
  const appSha256 = app.sha256 === null ? null : Buffer.from(app.sha256.computed).toString('hex');
  const header = app.header;
  const summary = [
    ...head,
    `chip ${ESP_CHIPS[chip].displayName}, project ${projectName}, version ${appVersion}`,
    `flash ${header?.flashModeName ?? '?'} ${header?.flashFreqMHz ?? '?'} MHz ${header?.flashSizeBytes === null || header === null ? '?' : formatFlashSize(header.flashSizeBytes)}`,
    ...parts.map((p) => `${p.name}: ${p.data.length} bytes at ${hex32(p.offset)}`),
  ];
  return { kind, parts, chip, appVersion, projectName, appSha256, summary };
}

function lastNonErased(bytes: Uint8Array): number {
  let i = bytes.length - 1;
  while (i >= 0 && bytes[i] === 0xff) i--;
  return i;
}

function evidence(file: string, target: ImagePlanTarget): Record<string, unknown> & { file: string } {
  return target.boardId === undefined ? { file } : { file, boardId: target.boardId };
}

/** `4MB` for whole MiB (as esptool prints flash sizes), `128 KiB` otherwise. */
function sizeText(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? formatFlashSize(bytes) : `${bytes / 1024} KiB`;
}
