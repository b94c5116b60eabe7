/** The persistent filesystem image format (sim/micropython/fs-image.ts). */
import { describe, expect, it } from 'vitest';
import { crc32, decodeFsImage, encodeFsImage, FS_IMAGE_ENTRY_OVERHEAD_BYTES, FS_IMAGE_FIXED_BYTES, type FsImageEntry } from '../../../sim/micropython/fs-image.ts';

const text = (s: string) => new TextEncoder().encode(s);
const ENTRIES: FsImageEntry[] = [
  { kind: 'file', path: 'boot.py', data: text('# boot\n') },
  { kind: 'dir', path: 'lib' },
  { kind: 'dir', path: 'lib/pkg' },
  { kind: 'file', path: 'lib/pkg/__init__.py', data: new Uint8Array() },
  { kind: 'file', path: 'lib/blob.bin', data: Uint8Array.from({ length: 300 }, (_, i) => i & 0xff) },
  { kind: 'file', path: 'ünïcode.txt', data: text('ok') },
];

describe('fs image', () => {
  it('round-trips directories, empty and binary files and UTF-8 names', () => {
    const decoded = decodeFsImage(encodeFsImage(ENTRIES));
    expect(decoded).toEqual({ ok: true, entries: ENTRIES });
  });

  it('has the documented size: header, per-entry overhead, paths and data', () => {
    const image = encodeFsImage(ENTRIES);
    const payload = ENTRIES.reduce((n, e) => n + FS_IMAGE_ENTRY_OVERHEAD_BYTES + Buffer.byteLength(e.path) + (e.kind === 'file' ? e.data.length : 0), 0);
    expect(image.length).toBe(FS_IMAGE_FIXED_BYTES + payload);
    expect(new TextDecoder().decode(image.subarray(0, 8))).toBe('HILMPFS\0');
  });

  it('computes CRC-32 like zlib', () => {
    expect(crc32(text('123456789'))).toBe(0xcbf43926);
  });

  it.each([
    ['an empty buffer', () => new Uint8Array()],
    ['a wrong magic', (img: Uint8Array) => img.map((b, i) => (i === 0 ? 0x58 : b))],
    ['a flipped data bit', (img: Uint8Array) => img.map((b, i) => (i === img.length - 10 ? b ^ 1 : b))],
    ['a truncated image', (img: Uint8Array) => img.slice(0, img.length - 7)],
    ['an erased region', (img: Uint8Array) => new Uint8Array(img.length).fill(0xff)],
  ])('rejects %s', (_name, corrupt) => {
    expect(decodeFsImage(corrupt(encodeFsImage(ENTRIES))).ok).toBe(false);
  });

  it('rejects a file listed before its directory, even with a valid checksum', () => {
    const image = encodeFsImage([{ kind: 'file', path: 'lib/a.py', data: text('x') }]);
    expect(decodeFsImage(image)).toEqual({ ok: false, reason: 'entry "lib/a.py" precedes its directory' });
  });

  it('refuses to encode paths that could escape the root', () => {
    expect(() => encodeFsImage([{ kind: 'file', path: '../x', data: new Uint8Array() }])).toThrow(RangeError);
    expect(() => encodeFsImage([{ kind: 'dir', path: '/abs' }])).toThrow(RangeError);
  });
});
