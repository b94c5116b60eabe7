/**
 * Per-chip layout of simulated builds: header parameters, load addresses of the application's
 * segments and the shape of the second-stage bootloader. Values follow images produced by ESP-IDF
 * v5.x (as shown by `esptool image_info` and the ROM's `load:` lines of real boards); the exact
 * addresses of a given real build differ, these are plausible representatives.
 */
import type { ChipName } from '../../runner/firmware/esp-chips.ts';

/** Layout facts for one chip. */
export interface ChipBuildLayout {
  flashFreqMHz: number;
  defaultFlashSizeBytes: number;
  defaultBoardName: string;
  defaultMcuName: string;
  app: {
    /** DROM load address; on the S3 the DROM pages follow the IROM pages in the shared MMU. */
    dromAddress(iromBytes: number): number;
    dramAddress: number;
    iramAddress: number;
    iromAddress: number;
    /** Entry point offset inside the first IRAM segment. */
    entryOffset: number;
  };
  bootloader: {
    entryAddress: number;
    segments: readonly { loadAddress: number; lengthBytes: number }[];
  };
}

const MIB = 1024 * 1024;

/** Layouts by chip. */
export const CHIP_BUILD_LAYOUTS: Readonly<Record<ChipName, ChipBuildLayout>> = Object.freeze({
  esp32: {
    flashFreqMHz: 40,
    defaultFlashSizeBytes: 4 * MIB,
    defaultBoardName: 'Generic ESP32 module',
    defaultMcuName: 'ESP32',
    app: {
      dromAddress: () => 0x3f400020,
      dramAddress: 0x3ffbdb60,
      iramAddress: 0x40080000,
      iromAddress: 0x400d0020,
      entryOffset: 0x1188,
    },
    bootloader: {
      entryAddress: 0x4008064c,
      segments: [
        { loadAddress: 0x3fff0030, lengthBytes: 7104 },
        { loadAddress: 0x40078000, lengthBytes: 15576 },
        { loadAddress: 0x40080400, lengthBytes: 4 },
        { loadAddress: 0x40080404, lengthBytes: 3876 },
      ],
    },
  },
  esp32s3: {
    flashFreqMHz: 80,
    defaultFlashSizeBytes: 8 * MIB,
    defaultBoardName: 'Generic ESP32S3 module',
    defaultMcuName: 'ESP32S3',
    app: {
      dromAddress: (iromBytes) => 0x3c000020 + Math.ceil((iromBytes + 0x20) / 0x10000) * 0x10000,
      dramAddress: 0x3fc97c00,
      iramAddress: 0x40374000,
      iromAddress: 0x42000020,
      entryOffset: 0x1a10,
    },
    bootloader: {
      entryAddress: 0x403c9908,
      segments: [
        { loadAddress: 0x3fce3818, lengthBytes: 0x109c },
        { loadAddress: 0x403c9700, lengthBytes: 0x4 },
        { loadAddress: 0x403c9704, lengthBytes: 0xc00 },
        { loadAddress: 0x403cc700, lengthBytes: 0x2e30 },
      ],
    },
  },
});
