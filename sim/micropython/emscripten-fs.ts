/**
 * Types for the emscripten in-memory file system (`FS`, MEMFS backend) that the MicroPython
 * WebAssembly build runs on: only the members the simulator reads or wraps. Semantics follow the
 * emscripten runtime bundled with `@micropython/micropython-webassembly-pyscript` 1.28.0-6.
 */

/** A file-system node. MEMFS files keep their bytes in `contents[0, usedBytes)`. */
export interface FsNode {
  name: string;
  mode: number;
  parent: FsNode;
  usedBytes?: number;
  contents?: unknown;
}

/** Device/file operations of an open stream. */
export interface FsStreamOps {
  read?: (stream: FsStream, buffer: Uint8Array, offset: number, length: number, position: number) => number;
  write?: (stream: FsStream, buffer: Uint8Array, offset: number, length: number, position: number) => number;
  poll?: (stream: FsStream, timeout: number) => number;
}

/** An open file description. */
export interface FsStream {
  path: string;
  node: FsNode;
  flags: number;
  position: number;
  fd: number | null;
  stream_ops: FsStreamOps;
}

/** Result of `FS.statfsNode` (what `os.statvfs` reports, field by field). */
export interface FsStatfs {
  bsize: number;
  frsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  fsid: number;
  flags: number;
  namelen: number;
}

/** The `FS` object. Methods are writable so the simulator can wrap them. */
export interface EmscriptenFs {
  mkdir(path: string, mode?: number): FsNode;
  writeFile(path: string, data: Uint8Array | string): void;
  readFile(path: string): Uint8Array;
  readdir(path: string): string[];
  stat(path: string): { mode: number; size: number };
  isDir(mode: number): boolean;
  isFile(mode: number): boolean;
  lookupPath(path: string, options?: { follow?: boolean }): { path: string; node: FsNode };
  getPath(node: FsNode): string;
  getStream(fd: number): FsStream | null;
  write(stream: FsStream, buffer: Uint8Array, offset: number, length: number, position?: number, canOwn?: boolean): number;
  mknod(path: string, mode: number, dev: number): FsNode;
  rmdir(path: string): void;
  unlink(path: string): void;
  rename(oldPath: string, newPath: string): void;
  doTruncate(stream: FsStream | null, node: FsNode, length: number): void;
  close(stream: FsStream): void;
  statfsNode(node: FsNode): FsStatfs;
  ErrnoError: new (errno: number) => Error;
}

/** `open()` flag bits in emscripten's numbering (musl): O_APPEND. */
export const O_APPEND = 0x400;
/** poll(2) event bits (musl). */
export const POLLIN = 0x001;
export const POLLOUT = 0x004;
