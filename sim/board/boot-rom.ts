/**
 * Text the chips' mask ROMs print at boot: the reset banner, the flash-boot preamble, the `load:`
 * lines of the second-stage bootloader and ROM-level failures. Exact strings from
 * reference/esptool-protocol.md §8.5 and console captures of real boards; CRLF line endings.
 */
import type { ChipName } from '../../runner/firmware/esp-chips.ts';
import { hex32 } from '../../runner/firmware/byte-fields.ts';
import type { EspImageSegment } from '../../runner/firmware/esp-image.ts';

/** Why the chip (re)started, in the ROM's terms. */
export type ChipResetCause =
  /** Power-up, or an EN pulse (EN is a power-on reset on these chips). */
  | 'power-on'
  /** Software CPU reset: `esp_restart()`, i.e. `machine.reset()`. */
  | 'sw-cpu'
  /** Software system reset: what the second-stage bootloader does after a failed boot. */
  | 'sw-sys'
  /** RTC watchdog: the ROM hung on an unusable bootloader. */
  | 'rtc-wdt'
  /** Reset through the USB-Serial-JTAG peripheral (DTR/RTS on the S3's native USB). */
  | 'usb-uart-chip';

/** How the ROM continues after the banner. */
export type BootMode = 'normal' | 'download';

interface ChipRomText {
  banner: readonly string[];
  resetReasons: Readonly<Record<ChipResetCause, string>>;
  bootModes: Readonly<Record<BootMode, string>>;
  /** Lines between the reset line and the `load:` lines of a flash boot. */
  flashPreamble: readonly string[];
  /** `len:` is decimal on the ESP32 ROM and hex on the S3 ROM. */
  formatLoad(segment: EspImageSegment): string;
  /** The ESP32 ROM reports where it gave up; the S3 ROM just resets. */
  fatalTrailer: readonly string[];
  /** `Saved PC` line printed after non-power-on resets, or null. */
  savedPcLine: string | null;
}

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;

const ROM_TEXT: Readonly<Record<ChipName, ChipRomText>> = Object.freeze({
  esp32: {
    banner: ['ets Jun  8 2016 00:22:57', ''],
    resetReasons: {
      'power-on': 'rst:0x1 (POWERON_RESET)',
      'sw-cpu': 'rst:0xc (SW_CPU_RESET)',
      'sw-sys': 'rst:0x3 (SW_RESET)',
      'rtc-wdt': 'rst:0x10 (RTCWDT_RTC_RESET)',
      // The ESP32 has no USB peripheral; never produced for it, kept total for the table's type.
      'usb-uart-chip': 'rst:0x1 (POWERON_RESET)',
    },
    bootModes: {
      normal: 'boot:0x13 (SPI_FAST_FLASH_BOOT)',
      download: 'boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))',
    },
    flashPreamble: [
      'configsip: 0, SPIWP:0xee',
      'clk_drv:0x00,q_drv:0x00,d_drv:0x00,cs0_drv:0x00,hd_drv:0x00,wp_drv:0x00',
      'mode:DIO, clock div:2',
    ],
    formatLoad: (s) => `load:${hex32(s.loadAddress)},len:${s.lengthBytes}`,
    fatalTrailer: ['ets_main.c 371 '],
    savedPcLine: null,
  },
  esp32s3: {
    banner: ['ESP-ROM:esp32s3-20210327', 'Build:Mar 27 2021'],
    resetReasons: {
      'power-on': 'rst:0x1 (POWERON)',
      'sw-cpu': 'rst:0xc (RTC_SW_CPU_RST)',
      'sw-sys': 'rst:0x3 (RTC_SW_SYS_RST)',
      'rtc-wdt': 'rst:0x10 (RTCWDT_RTC_RST)',
      'usb-uart-chip': 'rst:0x15 (USB_UART_CHIP_RESET)',
    },
    bootModes: {
      normal: 'boot:0x8 (SPI_FAST_FLASH_BOOT)',
      download: 'boot:0x0 (DOWNLOAD(USB/UART0))',
    },
    flashPreamble: ['SPIWP:0xee', 'mode:DIO, clock div:1'],
    formatLoad: (s) => `load:${hex32(s.loadAddress)},len:${hex(s.lengthBytes)}`,
    fatalTrailer: [],
    savedPcLine: 'Saved PC:0x40375a10',
  },
});

/** Joins lines with CRLF, ending with CRLF. */
export function crlf(lines: readonly string[]): string {
  return lines.map((l) => `${l}\r\n`).join('');
}

/**
 * The ROM banner through the reset line; in download mode followed by `waiting for download`, after
 * which the ROM prints nothing more.
 */
export function romBanner(chip: ChipName, cause: ChipResetCause, mode: BootMode): string {
  const t = ROM_TEXT[chip];
  const lines = [...t.banner, `${t.resetReasons[cause]},${t.bootModes[mode]}`];
  if (cause !== 'power-on' && t.savedPcLine !== null) lines.push(t.savedPcLine);
  if (mode === 'download') lines.push('waiting for download');
  return crlf(lines);
}

/** The lines a flash boot prints before the ROM reads the bootloader. */
export function romFlashPreamble(chip: ChipName): string[] {
  return [...ROM_TEXT[chip].flashPreamble];
}

/** `load:` lines for the bootloader's segments and the `entry` line. */
export function romLoadLines(chip: ChipName, segments: readonly EspImageSegment[], entryAddress: number): string[] {
  const t = ROM_TEXT[chip];
  return [...segments.map((s) => t.formatLoad(s)), `entry ${hex(entryAddress)}`];
}

/** What the ESP32 ROM prints where it gives up (before the watchdog resets it); empty for the S3. */
export function romFatalTrailer(chip: ChipName): string[] {
  return [...ROM_TEXT[chip].fatalTrailer];
}
