/**
 * Opcodes, status codes and packet layout of the ESP serial bootloader protocol.
 * Source: reference esptool-protocol.md §2.2–§2.5 and §3.1 (esptool `loader.py`,
 * `docs/en/advanced-topics/serial-protocol.rst`, esptool-legacy-flasher-stub `stub_flasher.h`).
 */

/** Request opcodes (§3.1). */
export const Op = Object.freeze({
  FLASH_BEGIN: 0x02,
  FLASH_DATA: 0x03,
  FLASH_END: 0x04,
  MEM_BEGIN: 0x05,
  MEM_END: 0x06,
  MEM_DATA: 0x07,
  SYNC: 0x08,
  WRITE_REG: 0x09,
  READ_REG: 0x0a,
  SPI_SET_PARAMS: 0x0b,
  SPI_ATTACH: 0x0d,
  READ_FLASH_SLOW: 0x0e,
  CHANGE_BAUDRATE: 0x0f,
  FLASH_DEFL_BEGIN: 0x10,
  FLASH_DEFL_DATA: 0x11,
  FLASH_DEFL_END: 0x12,
  SPI_FLASH_MD5: 0x13,
  GET_SECURITY_INFO: 0x14,
  ERASE_FLASH: 0xd0,
  ERASE_REGION: 0xd1,
  READ_FLASH: 0xd2,
  RUN_USER_CODE: 0xd3,
} as const);

/** ROM error codes, second status byte (§2.5). */
export const RomError = Object.freeze({
  INVALID_MESSAGE: 0x05,
  FAILED_TO_ACT: 0x06,
  BAD_CHECKSUM: 0x07,
  FLASH_WRITE: 0x08,
  FLASH_READ: 0x09,
  READ_LENGTH: 0x0a,
  DEFLATE: 0x0b,
} as const);

/** Stub error codes, first status byte (§2.5). */
export const StubError = Object.freeze({
  BAD_DATA_LEN: 0xc0,
  BAD_DATA_CHECKSUM: 0xc1,
  BAD_BLOCKSIZE: 0xc2,
  INVALID_COMMAND: 0xc3,
  FAILED_SPI_OP: 0xc4,
  NOT_IN_FLASH_MODE: 0xc6,
  INFLATE: 0xc7,
  NOT_ENOUGH_DATA: 0xc8,
  TOO_MUCH_DATA: 0xc9,
  NOT_IMPLEMENTED: 0xff,
} as const);

/** Which program answers: the ROM loader or the uploaded flasher stub (§A). */
export type Personality = 'rom' | 'stub';

/**
 * A failure of one command, in the vocabulary of the personality that reports it. `code` is the ROM
 * error (second status byte) or the stub error (first status byte).
 */
export class CommandError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
    this.name = 'CommandError';
  }
}

/** A parsed host → chip packet (§2.2). */
export interface CommandPacket {
  opcode: number;
  /** Low byte of the checksum word (only MEM_DATA / FLASH_DATA / FLASH_DEFL_DATA use it). */
  checksum: number;
  data: Uint8Array;
}

/** Parses a decoded SLIP frame as a command; null when it is not one (wrong direction, too short, size mismatch). */
export function parseCommand(frame: Uint8Array): CommandPacket | null {
  if (frame.length < 8 || frame[0] !== 0x00) return null;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const size = view.getUint16(2, true);
  if (frame.length - 8 !== size) return null;
  return { opcode: frame[1] ?? 0, checksum: view.getUint32(4, true) & 0xff, data: frame.subarray(8) };
}

/** The `*_DATA` checksum (§2.2): seed 0xEF, XOR of every payload byte. */
export function dataChecksum(payload: Uint8Array): number {
  let sum = 0xef;
  for (const byte of payload) sum ^= byte;
  return sum;
}

/**
 * Encodes a chip → host response (§2.3, §2.4): `01`, opcode, size, value, payload, then the status
 * bytes — 4 for the ROM (`status, error, 0, 0`), 2 for the stub (`error, detail`).
 */
export function encodeResponse(
  personality: Personality,
  opcode: number,
  value: number,
  payload: Uint8Array,
  error: number | null,
): Uint8Array {
  const status = personality === 'rom'
    ? Uint8Array.of(error === null ? 0 : 1, error ?? 0, 0, 0)
    : Uint8Array.of(error ?? 0, 0);
  const out = new Uint8Array(8 + payload.length + status.length);
  const view = new DataView(out.buffer);
  out[0] = 0x01;
  out[1] = opcode;
  view.setUint16(2, payload.length + status.length, true);
  view.setUint32(4, value >>> 0, true);
  out.set(payload, 8);
  out.set(status, 8 + payload.length);
  return out;
}

/** Reads little-endian u32 word `index` of `data`, or undefined when `data` is too short. */
export function word(data: Uint8Array, index: number): number | undefined {
  const at = index * 4;
  if (data.length < at + 4) return undefined;
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(at, true);
}

/** Like {@link word} but throws a {@link CommandError} with `code` when the word is missing. */
export function requireWord(data: Uint8Array, index: number, code: number): number {
  const value = word(data, index);
  if (value === undefined) throw new CommandError(code, `request data too short: ${data.length} bytes`);
  return value;
}
