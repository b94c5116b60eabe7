/**
 * Parses and verifies an ESP application or bootloader image (`.bin`) without throwing: every defect
 * becomes a {@link EspImageProblem} with a stable code, so the flasher can refuse a bad image with a
 * clear message and the simulated boot code can print bootloader-style errors.
 * Format: reference/esptool-protocol.md §9.
 */
import { createHash } from 'node:crypto';
import { parseAppDescriptor, type EspAppDescriptor } from './app-descriptor.ts';
import { parseBootloaderDescriptor, type EspBootloaderDescriptor } from './bootloader-descriptor.ts';
import { bytesEqual, hex32, readU16, readU32, toHex } from './byte-fields.ts';
import {
  ESP_CHIPS,
  FLASH_MMU_PAGE_BYTES,
  chipForImageId,
  imageChipIdName,
  isFlashMappedAddress,
  type ChipName,
} from './esp-chips.ts';
import {
  CHECKSUM_SEED,
  ESP_IMAGE_MAGIC,
  EXTENDED_HEADER_BYTES,
  FLASH_FREQ_MHZ_BY_CODE,
  FLASH_MODES,
  FLASH_SIZE_BY_CODE,
  IMAGE_HEADER_BYTES,
  MAX_SEGMENTS,
  SEGMENT_HEADER_BYTES,
  SHA256_BYTES,
  type FlashModeName,
} from './esp-image-format.ts';

/** Stable codes of image defects. */
export type EspImageProblemCode =
  /** The image ends before a header, segment, checksum or hash it announces. */
  | 'TRUNCATED'
  /** The first byte is not 0xE9 (blank flash reads 0xFF). */
  | 'BAD_MAGIC'
  /** Zero segments or more than {@link MAX_SEGMENTS}. */
  | 'BAD_SEGMENT_COUNT'
  /** `chip_id` is not a supported chip. */
  | 'UNKNOWN_CHIP'
  /** `chip_id` differs from the chip the caller expects. */
  | 'WRONG_CHIP'
  /** The XOR checksum byte does not match the segment data. */
  | 'BAD_CHECKSUM'
  /** The appended SHA-256 does not match the image. */
  | 'BAD_SHA256'
  /** A flash-mapped segment's file offset and load address differ modulo the MMU page size. */
  | 'MISALIGNED_SEGMENT'
  /** An application image without `esp_app_desc_t` at the start of its first segment. */
  | 'NO_APP_DESC'
  /** A bootloader image without `esp_bootloader_desc_t` at the start of its first segment. */
  | 'NO_BOOTLOADER_DESC';

/** One defect, with the file offset it was found at when that helps. */
export interface EspImageProblem {
  code: EspImageProblemCode;
  message: string;
  offset?: number;
}

/** The 8-byte common header. */
export interface EspImageHeader {
  segmentCount: number;
  /** Header byte 2: 0 QIO, 1 QOUT, 2 DIO, 3 DOUT. */
  flashMode: number;
  flashModeName: FlashModeName | null;
  flashSizeCode: number;
  /** Null when the size code is not defined. */
  flashSizeBytes: number | null;
  flashFreqCode: number;
  /** Null when the frequency code is not defined. */
  flashFreqMHz: number | null;
  entryAddress: number;
}

/** The 16-byte extended header. */
export interface EspExtendedHeader {
  wpPin: number;
  /** Three bytes of SPI pin drive settings. */
  spiPinDrive: Uint8Array;
  chipId: number;
  /** The supported chip with this id, or null. */
  chip: ChipName | null;
  minRev: number;
  /** major × 100 + minor. */
  minRevFull: number;
  maxRevFull: number;
  hashAppended: boolean;
}

/** One segment, located in the file. */
export interface EspImageSegment {
  index: number;
  loadAddress: number;
  lengthBytes: number;
  /** File offset of the segment header. */
  headerOffset: number;
  /** File offset of the first data byte. */
  dataOffset: number;
  /** True for DROM/IROM (mapped from flash), false for RAM, null when the chip is unknown. */
  flashMapped: boolean | null;
}

/** Everything learned about an image. Fields that could not be read are null. */
export interface EspImageInfo {
  /** True when {@link problems} is empty. */
  ok: boolean;
  problems: EspImageProblem[];
  header: EspImageHeader | null;
  extendedHeader: EspExtendedHeader | null;
  segments: EspImageSegment[];
  checksum: { offset: number; stored: number; computed: number } | null;
  /** Present when the extended header says a hash is appended and the bytes are there. */
  sha256: { offset: number; stored: Uint8Array; computed: Uint8Array } | null;
  /** Length of the image proper (through the checksum and hash); trailing bytes are not part of it. */
  imageLengthBytes: number | null;
  appDescriptor: EspAppDescriptor | null;
  bootloaderDescriptor: EspBootloaderDescriptor | null;
}

/** What the caller expects of the image. */
export interface ParseEspImageOptions {
  /** `app` requires `esp_app_desc_t`, `bootloader` requires `esp_bootloader_desc_t`; default `any`. */
  expect?: 'app' | 'bootloader' | 'any';
  /** Adds WRONG_CHIP when the image is for another chip. */
  expectedChip?: ChipName;
  /**
   * Flash offset the image is (to be) written at. When given, mapped segments are checked for MMU
   * alignment (MISALIGNED_SEGMENT), as the ESP-IDF bootloader does before mapping them.
   */
  flashOffset?: number;
}

/**
 * Parses `bytes` as an ESP image and verifies it. Never throws for malformed input. Trailing bytes
 * after the image (padding, erased flash) are ignored, so a whole partition can be passed.
 */
export function parseEspImage(bytes: Uint8Array, options: ParseEspImageOptions = {}): EspImageInfo {
  const info: EspImageInfo = {
    ok: false,
    problems: [],
    header: null,
    extendedHeader: null,
    segments: [],
    checksum: null,
    sha256: null,
    imageLengthBytes: null,
    appDescriptor: null,
    bootloaderDescriptor: null,
  };
  const problem = (code: EspImageProblemCode, message: string, offset?: number): EspImageInfo => {
    info.problems.push(offset === undefined ? { code, message } : { code, message, offset });
    return info;
  };
  const done = (): EspImageInfo => {
    info.ok = info.problems.length === 0;
    return info;
  };

  if (bytes.length > 0 && bytes[0] !== ESP_IMAGE_MAGIC) {
    const word = bytes.length >= 4 ? readU32(bytes, 0) : (bytes[0] ?? 0);
    problem('BAD_MAGIC', `invalid header: ${hex32(word)} (magic byte 0x${(bytes[0] ?? 0).toString(16)}, expected 0xe9)`, 0);
    return done();
  }
  if (bytes.length < IMAGE_HEADER_BYTES + EXTENDED_HEADER_BYTES) {
    problem('TRUNCATED', `image is ${bytes.length} bytes, shorter than its ${IMAGE_HEADER_BYTES + EXTENDED_HEADER_BYTES}-byte header`, 0);
    return done();
  }

  const header = readHeader(bytes);
  info.header = header;
  const ext = readExtendedHeader(bytes);
  info.extendedHeader = ext;

  if (ext.chip === null) {
    problem('UNKNOWN_CHIP', `image is for ${imageChipIdName(ext.chipId)} (chip id ${ext.chipId}), which the rig does not support`, 12);
  } else if (options.expectedChip !== undefined && ext.chip !== options.expectedChip) {
    const want = ESP_CHIPS[options.expectedChip];
    problem('WRONG_CHIP', `image is for ${imageChipIdName(ext.chipId)} (chip id ${ext.chipId}), expected ${want.displayName} (chip id ${want.imageChipId})`, 12);
  }

  if (header.segmentCount === 0 || header.segmentCount > MAX_SEGMENTS) {
    problem('BAD_SEGMENT_COUNT', `image declares ${header.segmentCount} segments (1…${MAX_SEGMENTS} allowed)`, 1);
    return done();
  }

  let pos = IMAGE_HEADER_BYTES + EXTENDED_HEADER_BYTES;
  let checksum = CHECKSUM_SEED;
  for (let index = 0; index < header.segmentCount; index++) {
    if (pos + SEGMENT_HEADER_BYTES > bytes.length) {
      problem('TRUNCATED', `image ends inside the header of segment ${index} at offset ${hex32(pos)}`, pos);
      return done();
    }
    const loadAddress = readU32(bytes, pos);
    const lengthBytes = readU32(bytes, pos + 4);
    const dataOffset = pos + SEGMENT_HEADER_BYTES;
    if (dataOffset + lengthBytes > bytes.length) {
      problem('TRUNCATED', `segment ${index} (${lengthBytes} bytes at ${hex32(dataOffset)}) runs past the end of the ${bytes.length}-byte image`, pos);
      return done();
    }
    const flashMapped = ext.chip === null ? null : isFlashMappedAddress(ext.chip, loadAddress);
    info.segments.push({ index, loadAddress, lengthBytes, headerOffset: pos, dataOffset, flashMapped });
    for (let i = dataOffset; i < dataOffset + lengthBytes; i++) checksum ^= bytes[i] ?? 0;
    if (flashMapped && options.flashOffset !== undefined) {
      const flashAddress = options.flashOffset + dataOffset;
      if (flashAddress % FLASH_MMU_PAGE_BYTES !== loadAddress % FLASH_MMU_PAGE_BYTES) {
        problem('MISALIGNED_SEGMENT', `segment ${index} load address ${hex32(loadAddress)} does not match its flash address ${hex32(flashAddress)} modulo 64 KiB`, pos);
      }
    }
    pos = dataOffset + lengthBytes;
  }

  // The checksum byte sits where the file length becomes ≡ 15 (mod 16); zero padding before it.
  const checksumOffset = pos + ((15 - (pos % 16) + 16) % 16);
  if (checksumOffset >= bytes.length) {
    problem('TRUNCATED', `image ends before its checksum byte at ${hex32(checksumOffset)}`, checksumOffset);
    return done();
  }
  const storedChecksum = bytes[checksumOffset] ?? 0;
  info.checksum = { offset: checksumOffset, stored: storedChecksum, computed: checksum };
  if (storedChecksum !== checksum) {
    problem('BAD_CHECKSUM', `checksum failed: calculated 0x${checksum.toString(16)}, read 0x${storedChecksum.toString(16)}`, checksumOffset);
  }
  let end = checksumOffset + 1;
  if (ext.hashAppended) {
    if (end + SHA256_BYTES > bytes.length) {
      problem('TRUNCATED', `image ends before its appended SHA-256 at ${hex32(end)}`, end);
      return done();
    }
    const computed = new Uint8Array(createHash('sha256').update(bytes.subarray(0, end)).digest());
    const stored = bytes.slice(end, end + SHA256_BYTES);
    info.sha256 = { offset: end, stored, computed };
    if (!bytesEqual(stored, computed)) {
      problem('BAD_SHA256', `image hash failed: calculated ${toHex(computed)}, read ${toHex(stored)}`, end);
    }
    end += SHA256_BYTES;
  }
  info.imageLengthBytes = end;

  const first = info.segments[0];
  if (first !== undefined) {
    const firstData = bytes.subarray(first.dataOffset, first.dataOffset + first.lengthBytes);
    info.appDescriptor = parseAppDescriptor(firstData, 0);
    info.bootloaderDescriptor = info.appDescriptor === null ? parseBootloaderDescriptor(firstData, 0) : null;
  }
  if (options.expect === 'app' && info.appDescriptor === null) {
    problem('NO_APP_DESC', 'no esp_app_desc_t (magic 0xabcd5432) at the start of the first segment: not an ESP-IDF application', first?.dataOffset);
  }
  if (options.expect === 'bootloader' && info.bootloaderDescriptor === null) {
    problem('NO_BOOTLOADER_DESC', 'no esp_bootloader_desc_t (magic 0x50) at the start of the first segment: not an ESP-IDF bootloader', first?.dataOffset);
  }
  return done();
}

function readHeader(bytes: Uint8Array): EspImageHeader {
  const flashMode = bytes[2] ?? 0;
  const sizeFreq = bytes[3] ?? 0;
  const flashSizeCode = sizeFreq >> 4;
  const flashFreqCode = sizeFreq & 0x0f;
  return {
    segmentCount: bytes[1] ?? 0,
    flashMode,
    flashModeName: FLASH_MODES[flashMode] ?? null,
    flashSizeCode,
    flashSizeBytes: FLASH_SIZE_BY_CODE[flashSizeCode] ?? null,
    flashFreqCode,
    flashFreqMHz: FLASH_FREQ_MHZ_BY_CODE[flashFreqCode] ?? null,
    entryAddress: readU32(bytes, 4),
  };
}

function readExtendedHeader(bytes: Uint8Array): EspExtendedHeader {
  const chipId = readU16(bytes, 12);
  return {
    wpPin: bytes[8] ?? 0,
    spiPinDrive: bytes.slice(9, 12),
    chipId,
    chip: chipForImageId(chipId),
    minRev: bytes[14] ?? 0,
    minRevFull: readU16(bytes, 15),
    maxRevFull: readU16(bytes, 17),
    hashAppended: bytes[23] === 1,
  };
}

/** The codes of `info.problems`, for quick checks (`codes.includes('BAD_SHA256')`). */
export function problemCodes<C extends string>(info: { problems: readonly { code: C }[] }): C[] {
  return info.problems.map((p) => p.code);
}
