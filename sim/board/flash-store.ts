/**
 * A simulated board's SPI flash, persisted in a file of exactly the flash size (erased = 0xFF).
 *
 * Semantics: `write` overwrites bytes (real NOR flash can only clear bits and needs an erase first;
 * the ROM loader and the flasher stub always erase before writing, so plain overwrite gives the same
 * result for every client and keeps the model simple). Every change is written through to the file
 * synchronously, so a crash of the process loses nothing that was written; `flush` additionally
 * asks the OS to put it on disk. A memory copy serves reads (16 MiB is cheap).
 */
import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { HilError } from '../../runner/errors.ts';
import type { FlashReader } from '../../runner/firmware/flash-layout.ts';

/** Files are created and erased in chunks of this size, never holding a second full-size buffer. */
const CHUNK_BYTES = 1024 * 1024;
/** Flash sizes must be a whole number of 4 KiB sectors. */
export const FLASH_SECTOR_BYTES = 4096;

/** One board's flash contents. Not safe for concurrent use by two processes. */
export class FlashStore implements FlashReader {
  /** Total size in bytes. */
  readonly sizeBytes: number;
  /** Backing file, or null for an in-memory store. */
  readonly path: string | null;
  /** True when {@link open} created the file (a brand-new board), false when it existed. */
  readonly created: boolean;
  readonly #memory: Uint8Array;
  #fd: number | null;

  private constructor(sizeBytes: number, path: string | null, fd: number | null, memory: Uint8Array, created: boolean) {
    this.sizeBytes = sizeBytes;
    this.path = path;
    this.#fd = fd;
    this.#memory = memory;
    this.created = created;
  }

  /**
   * Opens the flash file at `path`, creating an erased one when it does not exist (written to a
   * temporary name and renamed, so a crash never leaves a short file behind).
   * Throws HilError `SIM_START` when an existing file's size differs from `flashSizeBytes` (another
   * board's flash, or a changed bench config) and RangeError for a size that is not a positive
   * multiple of 4 KiB.
   */
  /**
   * The flash contents as a live view over shared memory, so a board's interpreter worker can read
   * them (`esp.flash_read`) without a copy. Callers must not write through it: use {@link write}.
   */
  get memory(): Uint8Array {
    return this.#memory;
  }

  static open(path: string, flashSizeBytes: number): FlashStore {
    checkSize(flashSizeBytes);
    let created = false;
    if (!existsSync(path)) {
      createErasedFile(path, flashSizeBytes);
      created = true;
    }
    const fd = openSync(path, 'r+');
    try {
      const actual = fstatSync(fd).size;
      if (actual !== flashSizeBytes) {
        throw new HilError(
          'SIM_START',
          `flash file ${path} is ${actual} bytes but the board has ${flashSizeBytes} bytes of flash; delete the file or fix the board's flash size`,
          { file: path, phase: 'open-flash' },
        );
      }
      const memory = sharedBytes(flashSizeBytes);
      for (let pos = 0; pos < flashSizeBytes; ) {
        const n = readSync(fd, memory, pos, Math.min(CHUNK_BYTES, flashSizeBytes - pos), pos);
        if (n <= 0) throw new HilError('SIM_START', `flash file ${path} ended early while reading`, { file: path });
        pos += n;
      }
      return new FlashStore(flashSizeBytes, path, fd, memory, created);
    } catch (err: unknown) {
      closeSync(fd);
      throw err;
    }
  }

  /** An erased flash that lives only in memory (tests, throw-away boards). */
  static inMemory(flashSizeBytes: number): FlashStore {
    checkSize(flashSizeBytes);
    return new FlashStore(flashSizeBytes, null, null, sharedBytes(flashSizeBytes).fill(0xff), true);
  }

  /** A copy of `length` bytes at `offset`. RangeError when the range leaves the flash. */
  read(offset: number, length: number): Uint8Array {
    this.#checkRange(offset, length);
    return this.#memory.slice(offset, offset + length);
  }

  /** Overwrites bytes at `offset` (see the class note on NOR semantics). RangeError out of range. */
  write(offset: number, data: Uint8Array): void {
    this.#checkRange(offset, data.length);
    this.#memory.set(data, offset);
    this.#persist(offset, data.length);
  }

  /** Sets `length` bytes at `offset` to 0xFF. RangeError out of range. */
  eraseRegion(offset: number, length: number): void {
    this.#checkRange(offset, length);
    this.#memory.fill(0xff, offset, offset + length);
    this.#persist(offset, length);
  }

  /** Erases the whole chip. */
  eraseAll(): void {
    this.eraseRegion(0, this.sizeBytes);
  }

  /** Asks the OS to put written data on disk (fsync). */
  flush(): void {
    if (this.#fd !== null) fsyncSync(this.#fd);
  }

  /** Flushes and closes the file. Idempotent; the store is unusable afterwards. */
  close(): void {
    if (this.#fd === null) return;
    const fd = this.#fd;
    this.#fd = null;
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  #persist(offset: number, length: number): void {
    if (this.path === null) return;
    if (this.#fd === null) throw new Error(`flash file ${this.path} is closed`);
    for (let pos = offset; pos < offset + length; ) {
      const n = Math.min(CHUNK_BYTES, offset + length - pos);
      pos += writeSync(this.#fd, this.#memory, pos, n, pos);
    }
  }

  #checkRange(offset: number, length: number): void {
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > this.sizeBytes) {
      throw new RangeError(`flash range ${offset}+${length} is outside 0…${this.sizeBytes}`);
    }
  }
}

function checkSize(flashSizeBytes: number): void {
  if (!Number.isInteger(flashSizeBytes) || flashSizeBytes <= 0 || flashSizeBytes % FLASH_SECTOR_BYTES !== 0) {
    throw new RangeError(`flash size must be a positive multiple of ${FLASH_SECTOR_BYTES} bytes, got ${flashSizeBytes}`);
  }
}

function createErasedFile(path: string, sizeBytes: number): void {
  const temp = `${path}.${process.pid}.creating`;
  const fd = openSync(temp, 'w');
  try {
    const erased = new Uint8Array(Math.min(CHUNK_BYTES, sizeBytes)).fill(0xff);
    for (let pos = 0; pos < sizeBytes; ) {
      pos += writeSync(fd, erased, 0, Math.min(erased.length, sizeBytes - pos), pos);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}

/** Bytes in a SharedArrayBuffer (see {@link FlashStore.memory}). */
function sharedBytes(sizeBytes: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(sizeBytes));
}
