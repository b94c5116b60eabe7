/**
 * The register file behind READ_REG / WRITE_REG, with the SPI0 user-command emulation that lets
 * clients read the flash id (RDID 0x9F) and SFDP (0x5A) through registers (reference
 * esptool-protocol.md §4.2, §6). Every address answers; unknown ones read 0 (§5.3, pitfall 10).
 */
import { CHIP_MAGIC_REGISTER, type ChipRegisterMap } from './register-map.ts';

/** Bit 18 of the SPI CMD register starts a user command and self-clears when it is done (§6). */
const SPI_CMD_USR = 1 << 18;
const OPCODE_RDID = 0x9f;
const OPCODE_SFDP = 0x5a;

/** JEDEC capacity byte for a flash size: log2(bytes), e.g. 0x16 for 4 MiB (§6). */
export function jedecCapacityCode(flashSizeBytes: number): number {
  return Math.round(Math.log2(flashSizeBytes));
}

/**
 * A Winbond-style flash id: manufacturer 0xEF, memory type 0x40, capacity from the size (§6:
 * `manufacturer | type << 8 | capacity << 16`).
 */
export function flashIdFor(flashSizeBytes: number): number {
  return 0xef | (0x40 << 8) | (jedecCapacityCode(flashSizeBytes) << 16);
}

/**
 * The SFDP bytes the simulated flash answers: the `SFDP` signature at address 0 (what esptool 5.3+
 * checks) and erased bytes elsewhere, which also ends esptool's XMC probe at address 0x10 (≠ 0x20).
 */
function sfdpByte(address: number): number {
  const signature = [0x53, 0x46, 0x44, 0x50];
  return address < signature.length ? (signature[address] ?? 0xff) : 0xff;
}

/** READ_REG / WRITE_REG state of one session. */
export class RegisterFile {
  readonly #map: ChipRegisterMap;
  readonly #flashId: number;
  readonly #values: Map<number, number>;

  constructor(map: ChipRegisterMap, mac: Uint8Array, flashSizeBytes: number) {
    this.#map = map;
    this.#flashId = flashIdFor(flashSizeBytes);
    this.#values = new Map(map.initialValues(mac));
    this.#values.set(CHIP_MAGIC_REGISTER, map.magic);
  }

  /** The register's value; 0 for anything not modelled. */
  read(address: number): number {
    return this.#values.get(address >>> 0) ?? 0;
  }

  /** Applies `new = (old & ~mask) | (value & mask)` (§4.2), then runs an SPI user command if one was started. */
  write(address: number, value: number, mask: number): void {
    const addr = address >>> 0;
    const next = ((this.read(addr) & ~mask) | (value & mask)) >>> 0;
    this.#values.set(addr, next);
    if (addr === this.#map.spi.cmd && (next & SPI_CMD_USR) !== 0) this.#runUserCommand();
  }

  #runUserCommand(): void {
    const spi = this.#map.spi;
    const opcode = this.read(spi.user2) & 0xffff;
    const bits = Math.min(32, (this.read(spi.misoDlen) & 0xffffff) + 1);
    let result = 0;
    if (opcode === OPCODE_RDID) {
      result = this.#flashId;
    } else if (opcode === OPCODE_SFDP) {
      const raw = this.read(spi.addr);
      const address = spi.addressLeftAligned ? raw >>> 8 : raw & 0xffffff;
      for (let i = 0; i < 4; i++) result |= sfdpByte(address + i) << (8 * i);
    }
    // Other opcodes (RDSR, WREN, reset 0x66/0x99, …) are no-ops that read back 0 (§6).
    const mask = bits >= 32 ? 0xffffffff : (1 << bits) - 1;
    this.#values.set(spi.w0, (result & mask) >>> 0);
    this.#values.set(spi.cmd, (this.read(spi.cmd) & ~SPI_CMD_USR) >>> 0);
  }
}
