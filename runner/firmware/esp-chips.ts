/**
 * Facts about the ESP chips the rig supports, as they matter for images and flash layout.
 *
 * Sources: esptool `docs/en/advanced-topics/firmware-image-format.rst` (chip ids, flash offsets);
 * ESP-IDF `components/soc/<chip>/include/soc/soc.h` (flash-mapped address ranges, SOC_DROM_* and
 * SOC_IROM_*); reference/esptool-protocol.md §9.
 */

/** The chips the rig (and the virtual lab) knows. */
export type ChipName = 'esp32' | 'esp32s3';

/** An address range `[start, end)` of the CPU's view of memory. */
export interface AddressRange {
  readonly start: number;
  readonly end: number;
}

/** Per-chip facts used by image parsing, building and booting. */
export interface EspChipFacts {
  readonly chip: ChipName;
  /** Human name, e.g. `ESP32-S3`. */
  readonly displayName: string;
  /** `chip_id` in the image extended header. */
  readonly imageChipId: number;
  /** Flash offset of the second-stage bootloader image. */
  readonly bootloaderOffset: number;
  /** ESP-IDF's default `max_rev_full` in images built for this chip. */
  readonly defaultMaxRevFull: number;
  /** Address ranges reached through the flash MMU (DROM, IROM): such segments are mapped, not loaded. */
  readonly flashMappedRanges: readonly AddressRange[];
}

/** Table of supported chips. */
export const ESP_CHIPS: Readonly<Record<ChipName, EspChipFacts>> = Object.freeze({
  esp32: Object.freeze({
    chip: 'esp32',
    displayName: 'ESP32',
    imageChipId: 0,
    bootloaderOffset: 0x1000,
    defaultMaxRevFull: 399,
    flashMappedRanges: Object.freeze([
      { start: 0x3f400000, end: 0x3f800000 }, // DROM
      { start: 0x400d0000, end: 0x40400000 }, // IROM
    ]),
  }),
  esp32s3: Object.freeze({
    chip: 'esp32s3',
    displayName: 'ESP32-S3',
    imageChipId: 9,
    bootloaderOffset: 0x0,
    defaultMaxRevFull: 99,
    flashMappedRanges: Object.freeze([
      { start: 0x3c000000, end: 0x3e000000 }, // DROM
      { start: 0x42000000, end: 0x44000000 }, // IROM
    ]),
  }),
} satisfies Record<ChipName, EspChipFacts>);

/**
 * Names of every `chip_id` value esptool documents, so a foreign image can be reported by name even
 * when the rig does not support that chip.
 */
export const IMAGE_CHIP_ID_NAMES: Readonly<Record<number, string>> = Object.freeze({
  0: 'ESP32',
  2: 'ESP32-S2',
  5: 'ESP32-C3',
  9: 'ESP32-S3',
  12: 'ESP32-C2',
  13: 'ESP32-C6',
  16: 'ESP32-H2',
  18: 'ESP32-P4',
});

/** Flash offset of the partition table (ESP-IDF default). */
export const PARTITION_TABLE_OFFSET = 0x8000;

/** Usual flash offset of the first application partition. */
export const DEFAULT_APP_OFFSET = 0x10000;

/** Flash MMU page size: mapped segments must sit at the same offset modulo this in flash and in memory. */
export const FLASH_MMU_PAGE_BYTES = 0x10000;

/** The supported chip whose images carry `chipId`, or null. */
export function chipForImageId(chipId: number): ChipName | null {
  for (const facts of Object.values(ESP_CHIPS)) {
    if (facts.imageChipId === chipId) return facts.chip;
  }
  return null;
}

/** A readable name for an image `chip_id` (`ESP32-C3`, or `unknown chip 0x42`). */
export function imageChipIdName(chipId: number): string {
  return IMAGE_CHIP_ID_NAMES[chipId] ?? `unknown chip 0x${chipId.toString(16)}`;
}

/** True when `address` is reached through the flash MMU on `chip`. */
export function isFlashMappedAddress(chip: ChipName, address: number): boolean {
  return ESP_CHIPS[chip].flashMappedRanges.some((r) => address >= r.start && address < r.end);
}
