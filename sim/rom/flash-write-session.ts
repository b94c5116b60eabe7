/**
 * One FLASH_BEGIN/DATA/END or FLASH_DEFL_BEGIN/DATA/END sequence (reference esptool-protocol.md
 * §4.6 stub, §4.7 ROM): erases the sectors the write will touch, then writes data sequentially —
 * plain blocks as they are, deflate blocks through one streaming zlib decoder, so the compressed
 * stream may be split at any byte.
 *
 * Timing: erase and program time are not modelled (they complete at once); the wire rate dominates
 * a simulated flash, and the clients' per-block timeouts are generous.
 */
import { Unzlib } from 'fflate';
import type { FlashStore } from '../board/flash-store.ts';
import { FLASH_SECTOR_BYTES } from '../board/flash-store.ts';
import { CommandError, RomError, StubError, type Personality } from './rom-commands.ts';

/** Largest block a stub accepts (§4.6: block_size > 0x4000 → 0xC2). */
export const MAX_STUB_BLOCK_BYTES = 0x4000;

/** Parameters of FLASH_BEGIN / FLASH_DEFL_BEGIN (§3.1). */
export interface FlashBeginParams {
  /** Word 0: bytes to erase/write (DEFL: the uncompressed size; ROM DEFL: rounded up to blocks). */
  sizeBytes: number;
  numBlocks: number;
  blockBytes: number;
  offset: number;
  compressed: boolean;
}

/** An active write; {@link data} per block, {@link finish} on END. */
export class FlashWriteSession {
  readonly #flash: FlashStore;
  readonly #personality: Personality;
  readonly #compressed: boolean;
  #remaining: number;
  #next: number;
  #inflater: Unzlib | null = null;
  #inflateError: Error | null = null;

  /** Validates the parameters and erases every sector touched by `[offset, offset + size)`. Throws {@link CommandError}. */
  constructor(flash: FlashStore, personality: Personality, params: FlashBeginParams) {
    this.#flash = flash;
    this.#personality = personality;
    this.#compressed = params.compressed;
    if (personality === 'stub' && params.blockBytes > MAX_STUB_BLOCK_BYTES) {
      throw new CommandError(StubError.BAD_BLOCKSIZE, `block size ${params.blockBytes} exceeds ${MAX_STUB_BLOCK_BYTES}`);
    }
    if (params.offset + params.sizeBytes > flash.sizeBytes) {
      throw new CommandError(
        personality === 'rom' ? RomError.FAILED_TO_ACT : StubError.FAILED_SPI_OP,
        `write of ${params.sizeBytes} bytes at 0x${params.offset.toString(16)} leaves the ${flash.sizeBytes}-byte flash`,
      );
    }
    this.#remaining = params.sizeBytes;
    this.#next = params.offset;
    if (params.sizeBytes > 0) {
      // Whole sectors, including the first one when the offset is unaligned (§4.6).
      const start = params.offset - (params.offset % FLASH_SECTOR_BYTES);
      const end = Math.min(flash.sizeBytes, Math.ceil((params.offset + params.sizeBytes) / FLASH_SECTOR_BYTES) * FLASH_SECTOR_BYTES);
      flash.eraseRegion(start, end - start);
    }
    if (params.compressed) {
      this.#inflater = new Unzlib((chunk) => this.#write(chunk));
    }
  }

  /** Bytes still expected before END succeeds. */
  get remainingBytes(): number {
    return this.#remaining;
  }

  /** Whether this session was started with FLASH_DEFL_BEGIN. */
  get compressed(): boolean {
    return this.#compressed;
  }

  /**
   * Writes one block's payload (already length- and checksum-checked). Plain: the first
   * `min(len, remaining)` bytes (the 0xFF padding of the last block is dropped). DEFL: decompressed
   * output. Throws {@link CommandError} on a corrupt stream or too much data.
   */
  data(payload: Uint8Array): void {
    if (this.#inflater === null) {
      this.#write(payload.subarray(0, Math.min(payload.length, this.#remaining)));
      return;
    }
    try {
      this.#inflater.push(payload, false);
    } catch (err: unknown) {
      this.#inflateError = err instanceof Error ? err : new Error(String(err));
    }
    if (this.#inflateError !== null) {
      const err = this.#inflateError;
      this.#inflateError = null;
      if (err instanceof CommandError) throw err;
      throw new CommandError(this.#personality === 'rom' ? RomError.DEFLATE : StubError.INFLATE, `inflate failed: ${err.message}`);
    }
  }

  /** END: throws {@link CommandError} (not enough data) while bytes remain. */
  finish(): void {
    if (this.#remaining > 0) {
      throw new CommandError(this.#personality === 'rom' ? RomError.FAILED_TO_ACT : StubError.NOT_ENOUGH_DATA, `${this.#remaining} bytes still expected`);
    }
  }

  #write(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (chunk.length > this.#remaining) {
      // Keep what fits, then report (§4.6: output beyond `remaining` is 0xC9).
      this.#write(chunk.subarray(0, this.#remaining));
      this.#inflateError = new CommandError(StubError.TOO_MUCH_DATA, `${chunk.length - this.#remaining} bytes beyond the announced size`);
      if (this.#inflater === null) throw this.#inflateError;
      return;
    }
    this.#flash.write(this.#next, chunk);
    this.#next += chunk.length;
    this.#remaining -= chunk.length;
  }
}
