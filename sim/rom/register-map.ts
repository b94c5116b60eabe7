/**
 * Register values the ROM loader and stub answer with READ_REG, per chip: the chip-detect magic, the
 * eFuse words that carry the MAC, revision and package, the APB date and the UART clock divider
 * (crystal detection), and the SPI0 user-command registers used for flash identification.
 * Source: reference esptool-protocol.md §5.1 (ESP32), §5.2 (ESP32-S3), §6 (SPI0 registers);
 * esptool `targets/esp32.py`, `targets/esp32s3.py`.
 */
import type { ChipName } from '../../runner/firmware/esp-chips.ts';

/** The chip-detect magic register read by every client (§5). */
export const CHIP_MAGIC_REGISTER = 0x40001000;

/** Addresses of the SPI0 user-command registers (§6). */
export interface SpiRegisters {
  readonly cmd: number;
  readonly addr: number;
  readonly user: number;
  readonly user1: number;
  readonly user2: number;
  readonly mosiDlen: number;
  readonly misoDlen: number;
  readonly w0: number;
  /** ESP32 left-aligns the address in ADDR (`addr << (32 − addr_len)`); the S3 does not (§6). */
  readonly addressLeftAligned: boolean;
}

/** Everything chip-specific about the register file. */
export interface ChipRegisterMap {
  readonly magic: number;
  readonly spi: SpiRegisters;
  /** Initial register contents for a board with factory MAC `mac` (6 bytes). */
  initialValues(mac: Uint8Array): ReadonlyMap<number, number>;
  /** GET_SECURITY_INFO payload, or null when this chip's ROM lacks the command (§4.10). */
  readonly securityInfo: Uint8Array | null;
}

/** MAC bytes 2–5 as the big-endian word the eFuse block holds (§5.1, §5.2). */
function macLowWord(mac: Uint8Array): number {
  return (((mac[2] ?? 0) << 24) | ((mac[3] ?? 0) << 16) | ((mac[4] ?? 0) << 8) | (mac[5] ?? 0)) >>> 0;
}

/** MAC bytes 0–1 in the low 16 bits (the upper CRC bits are ignored by both clients). */
function macHighWord(mac: Uint8Array): number {
  return ((mac[0] ?? 0) << 8) | (mac[1] ?? 0);
}

const ESP32: ChipRegisterMap = Object.freeze({
  magic: 0x00f01d83,
  spi: Object.freeze({
    cmd: 0x3ff42000,
    addr: 0x3ff42004,
    user: 0x3ff4201c,
    user1: 0x3ff42020,
    user2: 0x3ff42024,
    mosiDlen: 0x3ff42028,
    misoDlen: 0x3ff4202c,
    w0: 0x3ff42080,
    addressLeftAligned: true,
  }),
  initialValues: (mac: Uint8Array) =>
    new Map<number, number>([
      [0x3ff5a004, macLowWord(mac)], // eFuse w1: MAC bytes 2–5
      [0x3ff5a008, macHighWord(mac)], // eFuse w2: MAC bytes 0–1
      // eFuse w3: ESP32-D0WD, 240 MHz rated, revision bit 0 → "ESP32-D0WD (revision v1.0)" (§5.1).
      [0x3ff5a00c, 0x0000a200],
      [0x3ff6607c, 0x16042000], // APB_CTL_DATE, revision bit 2 clear
      // UART0 CLKDIV 347: 115200 × 347 / 10⁶ ≈ 40 MHz crystal.
      [0x3ff40014, 0x0000015b],
    ]),
  // ESP32 ROM has no GET_SECURITY_INFO (§3.2, §4.10).
  securityInfo: null,
});

/** GET_SECURITY_INFO for the S3 (§4.10): flags 0 (SECURE_DOWNLOAD_ENABLE clear), chip_id 9, api 0. */
function s3SecurityInfo(): Uint8Array {
  const out = new Uint8Array(20);
  new DataView(out.buffer).setUint32(12, 9, true);
  return out;
}

const ESP32S3: ChipRegisterMap = Object.freeze({
  magic: 0x00000009,
  spi: Object.freeze({
    cmd: 0x60002000,
    addr: 0x60002004,
    user: 0x60002018,
    user1: 0x6000201c,
    user2: 0x60002020,
    mosiDlen: 0x60002024,
    misoDlen: 0x60002028,
    w0: 0x60002058,
    addressLeftAligned: false,
  }),
  initialValues: (mac: Uint8Array) =>
    new Map<number, number>([
      [0x60007044, macLowWord(mac)], // BLOCK1 w0: MAC bytes 2–5
      [0x60007048, macHighWord(mac)], // BLOCK1 w1: MAC bytes 0–1
      // BLOCK1 w3: minor revision 2, blk_version_minor 3, QFN56 → "ESP32-S3 (QFN56) (revision v0.2)".
      [0x60007050, 0x03080000],
      [0x6000706c, 0x00000001], // BLOCK2 w4: blk_version_major 1
      [0x60004038, 0x00000008], // GPIO_STRAP: GPIO0 high
    ]),
  securityInfo: s3SecurityInfo(),
});

/** Register maps by chip. */
export const CHIP_REGISTER_MAPS: Readonly<Record<ChipName, ChipRegisterMap>> = Object.freeze({ esp32: ESP32, esp32s3: ESP32S3 });
