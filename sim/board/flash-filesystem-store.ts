/**
 * The board filesystem stored in the flash's `vfs` partition, so it survives resets and power cycles
 * and is wiped by an erase, as on hardware. The region holds a 12-byte header (magic `HILVFS01`,
 * u32 LE image length) followed by the filesystem image the MicroPython host hands over. An erased
 * (0xFF) or foreign region reads as "no filesystem".
 */
import type { BoardFilesystemStore } from '../micropython/micropython-host.ts';
import { readU32, writeU32 } from '../../runner/firmware/byte-fields.ts';
import type { FlashStore } from './flash-store.ts';

const MAGIC = new TextEncoder().encode('HILVFS01');
const HEADER_BYTES = MAGIC.length + 4;

/** A {@link BoardFilesystemStore} over a region of a {@link FlashStore}. */
export class FlashFilesystemStore implements BoardFilesystemStore {
  readonly capacityBytes: number;
  readonly #flash: FlashStore;
  readonly #offset: number;

  /**
   * @param flash the board's flash
   * @param offset start of the region (the `vfs` partition), bytes
   * @param sizeBytes region length; clipped to the end of the flash (a table written for a larger
   *   chip), 0 means "no filesystem partition"
   */
  constructor(flash: FlashStore, offset: number, sizeBytes: number) {
    this.#flash = flash;
    this.#offset = offset;
    const usable = Math.max(0, Math.min(sizeBytes, flash.sizeBytes - offset));
    this.capacityBytes = Math.max(0, usable - HEADER_BYTES);
  }

  /** The stored image, or null when the region is erased, foreign or absent. */
  read(): Uint8Array | null {
    if (this.capacityBytes === 0) return null;
    const header = this.#flash.read(this.#offset, HEADER_BYTES);
    for (let i = 0; i < MAGIC.length; i++) if (header[i] !== MAGIC[i]) return null;
    const length = readU32(header, MAGIC.length);
    if (length > this.capacityBytes) return null;
    return this.#flash.read(this.#offset + HEADER_BYTES, length);
  }

  /** Replaces the stored image. Throws RangeError when it is larger than {@link capacityBytes}. */
  write(image: Uint8Array): void {
    if (image.length > this.capacityBytes) {
      throw new RangeError(`filesystem image of ${image.length} bytes does not fit the ${this.capacityBytes}-byte vfs partition`);
    }
    // Data first, header last, so a crash in between never leaves a new header over unwritten data.
    this.#flash.write(this.#offset + HEADER_BYTES, image);
    const header = new Uint8Array(HEADER_BYTES);
    header.set(MAGIC, 0);
    writeU32(header, MAGIC.length, image.length);
    this.#flash.write(this.#offset, header);
  }
}
