/**
 * What a simulated chip does on a normal (flash) boot, as a pure function of the flash contents: the
 * ROM reads and checks the second-stage bootloader, the bootloader reads the partition table, picks
 * the factory (else ota_0) app and verifies it (magic, chip id, checksum, SHA-256). The result is the
 * console text to print and what happens next: start MicroPython, idle in a foreign app, or reboot.
 * Reference: esptool-protocol.md §8.5, §9.8.
 */
import { isoDateFromAppDate } from '../../runner/firmware/app-descriptor.ts';
import { ESP_CHIPS, type ChipName } from '../../runner/firmware/esp-chips.ts';
import type { EspImageInfo } from '../../runner/firmware/esp-image.ts';
import { formatFlashSize } from '../../runner/firmware/esp-image-format.ts';
import { locateBootApp, type FlashReader } from '../../runner/firmware/flash-layout.ts';
import { AppSubtype, type PartitionEntry } from '../../runner/firmware/partition-table.ts';
import { toHex, hex32, readU32 } from '../../runner/firmware/byte-fields.ts';
import type { FirmwareIdentity } from '../micropython/micropython-host.ts';
import { readBuildInfo, type QuirkValue } from '../firmware/build-info.ts';
import { CHIP_BUILD_LAYOUTS } from '../firmware/chip-build-layouts.ts';
import { DEFAULT_BUILD_DATE } from '../firmware/image-builder.ts';
import { romFatalTrailer, romFlashPreamble, romLoadLines, type ChipResetCause } from './boot-rom.ts';
import { IdfLog, logAppImageFailure, logAppSegments, logPartitionTable, logPartitionTableFailure } from './bootloader-log.ts';

/** The outcome of a normal boot. `lines` follow the ROM's reset banner; no line endings. */
export type BootPlan =
  | {
      kind: 'micropython';
      lines: string[];
      firmware: FirmwareIdentity;
      quirks: Readonly<Record<string, QuirkValue>>;
      /** Where the board filesystem lives, null when the table has no `vfs`/FAT partition. */
      filesystemPartition: PartitionEntry | null;
    }
  | { kind: 'foreign-app'; lines: string[]; projectName: string; version: string }
  | { kind: 'fail'; lines: string[]; rebootCause: ChipResetCause };

/** Chip revision the simulated silicon reports. */
const CHIP_REVISION: Readonly<Record<ChipName, string>> = { esp32: 'v3.0', esp32s3: 'v0.2' };

/** Plans a normal boot of `chip` from `flash`. Never throws for bad flash contents. */
export function planNormalBoot(flash: FlashReader, chip: ChipName): BootPlan {
  const target = locateBootApp(flash, chip);
  const facts = ESP_CHIPS[chip];
  const log = new IdfLog(27);
  log.raw(...romFlashPreamble(chip));

  // ---- ROM: the second-stage bootloader ----
  const bl = target.bootloader;
  const romFailure = romBootloaderFailure(bl, flash, target.bootloaderOffset);
  if (romFailure !== null) {
    log.raw(...romFailure, ...romFatalTrailer(chip));
    return { kind: 'fail', lines: log.lines, rebootCause: 'rtc-wdt' };
  }
  log.raw(...romLoadLines(chip, bl.segments, bl.header?.entryAddress ?? 0));

  // ---- second stage ----
  const fail = (): BootPlan => ({ kind: 'fail', lines: log.lines, rebootCause: 'sw-sys' });
  log.info('boot', `ESP-IDF ${bl.bootloaderDescriptor?.idfVersion ?? 'v5.2.2'} 2nd stage bootloader`, 0);
  log.info('boot', `compile time ${bl.bootloaderDescriptor?.dateTime ?? 'Jan  1 2024 12:00:00'}`, 0);
  const blChip = bl.problems.find((p) => p.code === 'WRONG_CHIP' || p.code === 'UNKNOWN_CHIP');
  if (blChip !== undefined) {
    log.error('boot_comm', `mismatch chip ID, expected ${facts.imageChipId}, found ${bl.extendedHeader?.chipId ?? 'unknown'}`);
    return fail();
  }
  log.info('boot', 'Multicore bootloader');
  log.info('boot', `chip revision: ${CHIP_REVISION[chip]}`);
  log.info(`boot.${chip}`, `SPI Speed      : ${bl.header?.flashFreqMHz ?? 40}MHz`);
  log.info(`boot.${chip}`, `SPI Mode       : ${bl.header?.flashModeName ?? 'DIO'}`);
  log.info(`boot.${chip}`, `SPI Flash Size : ${formatFlashSize(bl.header?.flashSizeBytes ?? flash.sizeBytes)}`);
  log.info('boot', 'Enabling RNG early entropy source...');

  const table = target.partitionTable;
  if (table === null || !table.ok) {
    logPartitionTableFailure(log, table?.problems[0]);
    return fail();
  }
  logPartitionTable(log, table.entries);
  const part = target.appPartition;
  if (part === null || target.app === null) {
    log.error('boot', 'No bootable app partitions in the partition table');
    return fail();
  }
  const app = target.app;
  const fatal = app.problems.find((p) => p.code !== 'NO_APP_DESC');
  if (fatal !== undefined) {
    logAppImageFailure(log, part.offset, fatal, facts.imageChipId, app.extendedHeader?.chipId ?? null);
    const slot = part.subtype === AppSubtype.factory ? 'Factory app partition' : 'OTA app partition slot 0';
    log.error('boot', `${slot} is not bootable`);
    log.error('boot', 'No bootable app partitions in the partition table');
    return fail();
  }
  logAppSegments(log, part.offset, app.segments);
  log.info('boot', `Loaded app from partition at offset 0x${part.offset.toString(16)}`, 0);
  log.info('boot', 'Disabling RNG early entropy source...');

  const desc = app.appDescriptor;
  if (desc !== null && desc.projectName === 'micropython') {
    const first = app.segments[0];
    const buildInfo = first === undefined ? null : readBuildInfo(flash.read(part.offset, first.dataOffset + first.lengthBytes));
    const layout = CHIP_BUILD_LAYOUTS[chip];
    return {
      kind: 'micropython',
      lines: log.lines,
      firmware: {
        version: desc.version,
        buildDate: isoDateFromAppDate(desc.date) ?? DEFAULT_BUILD_DATE,
        boardName: buildInfo?.boardName ?? layout.defaultBoardName,
        mcuName: buildInfo?.mcuName ?? layout.defaultMcuName,
      },
      quirks: buildInfo?.quirks ?? {},
      filesystemPartition: target.filesystemPartition,
    };
  }
  logForeignAppStart(log, app);
  return { kind: 'foreign-app', lines: log.lines, projectName: desc?.projectName ?? '', version: desc?.version ?? '' };
}

/** ROM-level failure lines for an unusable bootloader, or null when the ROM can load it. */
function romBootloaderFailure(bl: EspImageInfo, flash: FlashReader, offset: number): string[] | null {
  const codes = new Set(bl.problems.map((p) => p.code));
  if (codes.has('BAD_MAGIC')) {
    const word = hex32(readU32(flash.read(offset, 4), 0));
    // The ROM retries a few times before its watchdog fires.
    return [`invalid header: ${word}`, `invalid header: ${word}`, `invalid header: ${word}`];
  }
  if (codes.has('TRUNCATED') || codes.has('BAD_SEGMENT_COUNT')) return [`flash read err, ${offset.toString(16)}`];
  if (codes.has('BAD_CHECKSUM') && bl.checksum !== null) {
    return [`csum err:0x${bl.checksum.stored.toString(16)}!=0x${bl.checksum.computed.toString(16)}`];
  }
  if (codes.has('BAD_SHA256') && bl.sha256 !== null) {
    return ['SHA-256 comparison failed:', `Calculated: ${toHex(bl.sha256.computed)}`, `Expected: ${toHex(bl.sha256.stored)}`];
  }
  return null;
}

/** ESP-IDF's application start-up banner, printed by a non-MicroPython app before it idles. */
function logForeignAppStart(log: IdfLog, app: EspImageInfo): void {
  const desc = app.appDescriptor;
  log.info('cpu_start', 'Multicore app');
  log.info('cpu_start', 'Pro cpu start user code');
  log.info('app_init', 'Application information:', 0);
  log.info('app_init', `Project name:     ${desc?.projectName ?? ''}`, 0);
  log.info('app_init', `App version:      ${desc?.version ?? ''}`, 0);
  log.info('app_init', `Compile time:     ${desc ? `${desc.date} ${desc.time}` : ''}`, 0);
  log.info('app_init', `ELF file SHA256:  ${desc ? `${toHex(desc.appElfSha256).slice(0, 16)}...` : ''}`, 0);
  log.info('app_init', `ESP-IDF:          ${desc?.idfVersion ?? ''}`);
  log.info('main_task', 'Started on CPU0');
  log.info('main_task', 'Calling app_main()');
}
