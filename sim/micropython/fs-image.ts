/**
 * The board filesystem's persistent image: what the simulated board keeps in its `vfs` flash
 * partition (through a `BoardFilesystemStore`) so files survive soft resets, hard resets and host
 * restarts.
 *
 * Layout (all integers little-endian):
 * ```
 * magic        8 bytes  "HILMPFS\0"
 * version      u16      1
 * reserved     u16      0
 * entryCount   u32
 * entries      entryCount × { kind u8 (1 = directory, 2 = file), pathLength u16, path (UTF-8,
 *              relative to the root, '/'-separated), dataLength u32 (0 for directories), data }
 * crc32        u32      CRC-32 (IEEE 802.3, as zlib) of every byte before it
 * ```
 * A directory precedes everything inside it. Anything that does not parse exactly — wrong magic,
 * unknown version, bad checksum, truncation, a bad path, a child before its parent — is rejected;
 * the host then treats the store as blank.
 */

/** One directory or file of the board filesystem. */
export type FsImageEntry = { kind: 'dir'; path: string } | { kind: 'file'; path: string; data: Uint8Array };

/** Outcome of {@link decodeFsImage}. */
export type FsImageDecodeResult = { ok: true; entries: FsImageEntry[] } | { ok: false; reason: string };

const MAGIC = Uint8Array.from('HILMPFS\0', (c) => c.charCodeAt(0));
const VERSION = 1;
const KIND_DIR = 1;
const KIND_FILE = 2;

/** Header plus checksum, bytes. */
export const FS_IMAGE_FIXED_BYTES = MAGIC.length + 2 + 2 + 4 + 4;
/** Per-entry bytes besides the path and the data. */
export const FS_IMAGE_ENTRY_OVERHEAD_BYTES = 1 + 2 + 4;
/** Longest path an entry can carry, bytes. */
export const FS_IMAGE_MAX_PATH_BYTES = 0xffff;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3 polynomial, reflected, as zlib's `crc32`). */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Serialises entries (parents must come before their children). Throws RangeError on a bad path. */
export function encodeFsImage(entries: readonly FsImageEntry[]): Uint8Array<ArrayBuffer> {
  const encoder = new TextEncoder();
  const paths = entries.map((e) => {
    const problem = pathProblem(e.path);
    if (problem !== null) throw new RangeError(`cannot store ${JSON.stringify(e.path)}: ${problem}`);
    return encoder.encode(e.path);
  });
  let size = FS_IMAGE_FIXED_BYTES;
  entries.forEach((e, i) => {
    size += FS_IMAGE_ENTRY_OVERHEAD_BYTES + (paths[i]?.length ?? 0) + (e.kind === 'file' ? e.data.length : 0);
  });
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  let at = MAGIC.length;
  view.setUint16(at, VERSION, true);
  view.setUint16(at + 2, 0, true);
  view.setUint32(at + 4, entries.length, true);
  at += 8;
  entries.forEach((e, i) => {
    const path = paths[i] ?? new Uint8Array();
    out[at] = e.kind === 'dir' ? KIND_DIR : KIND_FILE;
    view.setUint16(at + 1, path.length, true);
    out.set(path, at + 3);
    at += 3 + path.length;
    const data = e.kind === 'file' ? e.data : new Uint8Array();
    view.setUint32(at, data.length, true);
    out.set(data, at + 4);
    at += 4 + data.length;
  });
  view.setUint32(at, crc32(out.subarray(0, at)), true);
  return out;
}

/** Parses an image; never throws. */
export function decodeFsImage(image: Uint8Array): FsImageDecodeResult {
  const fail = (reason: string): FsImageDecodeResult => ({ ok: false, reason });
  if (image.length < FS_IMAGE_FIXED_BYTES) return fail('too short');
  for (let i = 0; i < MAGIC.length; i++) if (image[i] !== MAGIC[i]) return fail('bad magic');
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const version = view.getUint16(MAGIC.length, true);
  if (version !== VERSION) return fail(`unsupported version ${version}`);
  const end = image.length - 4;
  if (crc32(image.subarray(0, end)) !== view.getUint32(end, true)) return fail('checksum mismatch');
  const count = view.getUint32(MAGIC.length + 4, true);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const entries: FsImageEntry[] = [];
  const dirs = new Set<string>(['']);
  const seen = new Set<string>();
  let at = MAGIC.length + 8;
  for (let i = 0; i < count; i++) {
    if (at + 3 > end) return fail('truncated entry');
    const kind = image[at];
    const pathLength = view.getUint16(at + 1, true);
    at += 3;
    if (at + pathLength + 4 > end) return fail('truncated path');
    let path: string;
    try {
      path = decoder.decode(image.subarray(at, at + pathLength));
    } catch {
      return fail('path is not UTF-8');
    }
    at += pathLength;
    const dataLength = view.getUint32(at, true);
    at += 4;
    if (at + dataLength > end) return fail('truncated data');
    const problem = pathProblem(path);
    if (problem !== null) return fail(`entry ${JSON.stringify(path)}: ${problem}`);
    if (seen.has(path)) return fail(`duplicate entry ${JSON.stringify(path)}`);
    if (!dirs.has(parentOf(path))) return fail(`entry ${JSON.stringify(path)} precedes its directory`);
    seen.add(path);
    if (kind === KIND_DIR) {
      if (dataLength !== 0) return fail(`directory ${JSON.stringify(path)} carries data`);
      dirs.add(path);
      entries.push({ kind: 'dir', path });
    } else if (kind === KIND_FILE) {
      entries.push({ kind: 'file', path, data: image.slice(at, at + dataLength) });
    } else {
      return fail(`unknown entry kind ${kind}`);
    }
    at += dataLength;
  }
  if (at !== end) return fail('trailing bytes after the last entry');
  return { ok: true, entries };
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

function pathProblem(path: string): string | null {
  if (path.length === 0) return 'empty path';
  if (new TextEncoder().encode(path).length > FS_IMAGE_MAX_PATH_BYTES) return 'path too long';
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') return 'bad path segment';
    if (segment.includes('\0')) return 'NUL in path';
  }
  return null;
}
