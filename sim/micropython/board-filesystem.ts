/**
 * The board's flash filesystem inside one VM: a MEMFS directory (`/flash`) that the VM mounts as its
 * root, filled from and saved to the persistent image (`fs-image.ts`).
 *
 * It wraps a few emscripten `FS` operations to behave like the board's LittleFS partition:
 * - space is accounted in 4 KiB blocks and a write or create that does not fit fails with ENOSPC
 *   (`OSError: 28` in Python, after errno translation);
 * - `os.statvfs()` reports the partition's geometry;
 * - every change marks the filesystem dirty, and closing a written file is a commit point (LittleFS
 *   commits on close), after which the owner persists the image.
 *
 * Accounting (a model, not LittleFS's exact allocator): 2 blocks reserved; a directory takes 1
 * block; a file takes ceil((size + 64 + path length) / 4096) blocks, at least 1. Every image entry is
 * smaller than its blocks, so an image of a filesystem that fits always fits the store.
 */
import { FS_IMAGE_ENTRY_OVERHEAD_BYTES, FS_IMAGE_FIXED_BYTES, type FsImageEntry, encodeFsImage } from './fs-image.ts';
import { O_APPEND, type EmscriptenFs, type FsNode, type FsStatfs, type FsStream } from './emscripten-fs.ts';
import { WasiErrno } from './wasi-errno.ts';

/** Where the board's files live in the VM's emscripten file system. */
export const BOARD_FS_ROOT = '/flash';
/** LittleFS block size on the esp32 `vfs` partition. */
export const FS_BLOCK_BYTES = 4096;
const RESERVED_BLOCKS = 2;
const FILE_METADATA_BYTES = 64;

/** The file MicroPython's inisetup.py writes on a blank filesystem (ports/esp32/modules/inisetup.py). */
export const DEFAULT_BOOT_PY =
  '# This file is executed on every boot (including wake-boot from deepsleep)\n#import esp\n#esp.osdebug(None)\n#import webrepl\n#webrepl.start()\n';

/** Board filesystem of one VM; see the module note. */
export class BoardFilesystem {
  readonly #fs: EmscriptenFs;
  readonly #totalBlocks: number;
  #dirty = false;
  #usedBlocks: number | null = null;
  /** Streams written since they were opened; a commit waits until the last one closes. */
  readonly #openWritten = new Set<FsStream>();
  #onCommit: () => void = () => {};

  /**
   * @param fs the VM's file system
   * @param capacityBytes usable size of the store (the `vfs` partition)
   */
  constructor(fs: EmscriptenFs, capacityBytes: number) {
    this.#fs = fs;
    this.#totalBlocks = Math.max(RESERVED_BLOCKS, Math.floor(Math.max(0, capacityBytes - FS_IMAGE_FIXED_BYTES) / FS_BLOCK_BYTES));
    if (FILE_METADATA_BYTES < FS_IMAGE_ENTRY_OVERHEAD_BYTES) throw new Error('file metadata must cover the image entry overhead');
  }

  /** True when something changed since the last {@link snapshot}. */
  get dirty(): boolean {
    return this.#dirty;
  }

  /** True while a file written to is still open (its data is not committed yet). */
  get hasOpenWrites(): boolean {
    return this.#openWritten.size > 0;
  }

  /** Marks the filesystem changed (e.g. freshly formatted), so the next persist point saves it. */
  markDirty(): void {
    this.#dirty = true;
  }

  /** Creates `/flash` and fills it. Call before {@link install}. */
  populate(entries: readonly FsImageEntry[]): void {
    this.#fs.mkdir(BOARD_FS_ROOT);
    for (const entry of entries) {
      const path = `${BOARD_FS_ROOT}/${entry.path}`;
      if (entry.kind === 'dir') this.#fs.mkdir(path);
      else this.#fs.writeFile(path, entry.data);
    }
  }

  /** Wraps the FS operations (see the module note). `onCommit` runs when a written file closes. */
  install(onCommit: () => void): void {
    this.#onCommit = onCommit;
    const fs = this.#fs;
    const write = fs.write;
    fs.write = (stream, buffer, offset, length, position, canOwn) => {
      if (isBoardPath(stream.path)) this.#beforeWrite(stream, length, position);
      return write.call(fs, stream, buffer, offset, length, position, canOwn);
    };
    const mknod = fs.mknod;
    fs.mknod = (path, mode, dev) => {
      if (isBoardPath(path) && !this.#exists(path)) {
        this.#reserve(fs.isDir(mode) ? 1 : fileBlocks(0, relativePath(path)));
        this.#changed();
      }
      return mknod.call(fs, path, mode, dev);
    };
    for (const name of ['rmdir', 'unlink'] as const) {
      const original = fs[name];
      fs[name] = (path: string) => {
        original.call(fs, path);
        if (isBoardPath(path)) this.#changed();
      };
    }
    const rename = fs.rename;
    fs.rename = (oldPath, newPath) => {
      rename.call(fs, oldPath, newPath);
      if (isBoardPath(oldPath) || isBoardPath(newPath)) this.#changed();
    };
    const doTruncate = fs.doTruncate;
    fs.doTruncate = (stream, node, length) => {
      doTruncate.call(fs, stream, node, length);
      if (isBoardPath(fs.getPath(node))) this.#changed();
    };
    const close = fs.close;
    fs.close = (stream) => {
      close.call(fs, stream);
      if (this.#openWritten.delete(stream) && this.#openWritten.size === 0) this.#onCommit();
    };
    const statfsNode = fs.statfsNode;
    fs.statfsNode = (node: FsNode): FsStatfs => {
      if (!isBoardPath(fs.getPath(node))) return statfsNode.call(fs, node);
      const free = Math.max(0, this.#totalBlocks - this.usedBlocks());
      return { bsize: FS_BLOCK_BYTES, frsize: FS_BLOCK_BYTES, blocks: this.#totalBlocks, bfree: free, bavail: free, files: 0, ffree: 0, fsid: 0, flags: 0, namelen: 255 };
    };
  }

  /** Blocks in use, reserved ones included. */
  usedBlocks(): number {
    if (this.#usedBlocks === null) {
      let used = RESERVED_BLOCKS;
      for (const entry of this.#walk()) used += entry.kind === 'dir' ? 1 : fileBlocks(entry.sizeBytes, entry.path);
      this.#usedBlocks = used;
    }
    return this.#usedBlocks;
  }

  /** The current files as an image; clears the dirty flag. */
  snapshot(): Uint8Array<ArrayBuffer> {
    this.#dirty = false;
    return encodeFsImage(this.entries());
  }

  /** The current directories and files (parents first). */
  entries(): FsImageEntry[] {
    return [...this.#walk()].map((e) =>
      e.kind === 'dir' ? { kind: 'dir', path: e.path } : { kind: 'file', path: e.path, data: this.#fs.readFile(`${BOARD_FS_ROOT}/${e.path}`) },
    );
  }

  #beforeWrite(stream: FsStream, length: number, position: number | undefined): void {
    const current = stream.node.usedBytes ?? 0;
    const at = stream.flags & O_APPEND ? current : (position ?? stream.position);
    const newSize = Math.max(current, at + length);
    if (newSize > current) {
      const path = relativePath(stream.path);
      const extra = fileBlocks(newSize, path) - fileBlocks(current, path);
      if (extra > 0) {
        this.#reserve(extra);
        if (this.#usedBlocks !== null) this.#usedBlocks += extra;
      }
    }
    this.#dirty = true;
    this.#openWritten.add(stream);
  }

  #reserve(blocks: number): void {
    if (this.usedBlocks() + blocks > this.#totalBlocks) throw new this.#fs.ErrnoError(WasiErrno.ENOSPC);
  }

  #changed(): void {
    this.#dirty = true;
    this.#usedBlocks = null;
  }

  #exists(path: string): boolean {
    try {
      this.#fs.lookupPath(path);
      return true;
    } catch {
      return false;
    }
  }

  *#walk(directory = ''): Generator<{ kind: 'dir' | 'file'; path: string; sizeBytes: number }> {
    const fs = this.#fs;
    const base = directory === '' ? BOARD_FS_ROOT : `${BOARD_FS_ROOT}/${directory}`;
    for (const name of fs.readdir(base).filter((n) => n !== '.' && n !== '..').sort()) {
      const path = directory === '' ? name : `${directory}/${name}`;
      const stat = fs.stat(`${BOARD_FS_ROOT}/${path}`);
      if (fs.isDir(stat.mode)) {
        yield { kind: 'dir', path, sizeBytes: 0 };
        yield* this.#walk(path);
      } else if (fs.isFile(stat.mode)) {
        yield { kind: 'file', path, sizeBytes: stat.size };
      }
    }
  }
}

function isBoardPath(path: string): boolean {
  return path === BOARD_FS_ROOT || path.startsWith(`${BOARD_FS_ROOT}/`);
}

function relativePath(absolute: string): string {
  return absolute.slice(BOARD_FS_ROOT.length + 1);
}

function fileBlocks(sizeBytes: number, path: string): number {
  return Math.max(1, Math.ceil((sizeBytes + FILE_METADATA_BYTES + Buffer.byteLength(path)) / FS_BLOCK_BYTES));
}
