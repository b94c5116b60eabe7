/**
 * Constants and field codes of the ESP application/bootloader image format.
 * Source: esptool `docs/en/advanced-topics/firmware-image-format.rst` and `esptool/bin_image.py`
 * (reference/esptool-protocol.md §9.1–9.3).
 */

/** First byte of every image. */
export const ESP_IMAGE_MAGIC = 0xe9;
/** Length of the common header. */
export const IMAGE_HEADER_BYTES = 8;
/** Length of the extended header that follows the common header (ESP32 and later). */
export const EXTENDED_HEADER_BYTES = 16;
/** Length of a segment header (`load_addr`, `data_len`). */
export const SEGMENT_HEADER_BYTES = 8;
/** The bootloader refuses images with more segments than this (ESP-IDF `ESP_IMAGE_MAX_SEGMENTS`). */
export const MAX_SEGMENTS = 16;
/** Seed of the XOR checksum. */
export const CHECKSUM_SEED = 0xef;
/** Length of the appended SHA-256 digest. */
export const SHA256_BYTES = 32;
/** `wp_pin` value meaning "not used". */
export const WP_PIN_UNUSED = 0xee;

/** SPI flash modes, by header byte 2. */
export const FLASH_MODES = ['QIO', 'QOUT', 'DIO', 'DOUT'] as const;
/** A flash mode name. */
export type FlashModeName = (typeof FLASH_MODES)[number];

const MIB = 1024 * 1024;
/** Flash size in bytes by the high nibble of header byte 3. */
export const FLASH_SIZE_BY_CODE: Readonly<Record<number, number>> = Object.freeze({
  0: 1 * MIB,
  1: 2 * MIB,
  2: 4 * MIB,
  3: 8 * MIB,
  4: 16 * MIB,
  5: 32 * MIB,
  6: 64 * MIB,
  7: 128 * MIB,
});

/** Flash frequency in MHz by the low nibble of header byte 3. */
export const FLASH_FREQ_MHZ_BY_CODE: Readonly<Record<number, number>> = Object.freeze({
  0x0: 40,
  0x1: 26,
  0x2: 20,
  0xf: 80,
});

/** The header code for a flash size in bytes. Throws RangeError for sizes the format cannot express. */
export function flashSizeCode(flashSizeBytes: number): number {
  for (const [code, size] of Object.entries(FLASH_SIZE_BY_CODE)) {
    if (size === flashSizeBytes) return Number(code);
  }
  throw new RangeError(`flash size ${flashSizeBytes} bytes has no image header code`);
}

/** The header code for a flash frequency in MHz. Throws RangeError for unsupported frequencies. */
export function flashFreqCode(freqMHz: number): number {
  for (const [code, mhz] of Object.entries(FLASH_FREQ_MHZ_BY_CODE)) {
    if (mhz === freqMHz) return Number(code);
  }
  throw new RangeError(`flash frequency ${freqMHz} MHz has no image header code`);
}

/** Human form of a flash size, the way ESP-IDF logs it (`4MB`). */
export function formatFlashSize(flashSizeBytes: number): string {
  return `${Math.round(flashSizeBytes / MIB)}MB`;
}
