import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isHilError } from '../../../runner/errors.ts';
import { FlashStore } from '../../../sim/board/flash-store.ts';
import { FlashFilesystemStore } from '../../../sim/board/flash-filesystem-store.ts';

const SIZE = 1024 * 1024;
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hil-flash-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('FlashStore', () => {
  it('creates an erased file of exactly the flash size', () => {
    const path = join(dir, 'board.bin');
    const flash = FlashStore.open(path, SIZE);
    try {
      expect(flash.created).toBe(true);
      expect(statSync(path).size).toBe(SIZE);
      expect(flash.read(0, 16).every((b) => b === 0xff)).toBe(true);
      expect(flash.read(SIZE - 16, 16).every((b) => b === 0xff)).toBe(true);
    } finally {
      flash.close();
    }
  });

  it('persists writes and erases across reopening without an explicit flush', () => {
    const path = join(dir, 'board.bin');
    const first = FlashStore.open(path, SIZE);
    first.write(0x1000, new Uint8Array([1, 2, 3, 4]));
    first.write(SIZE - 2, new Uint8Array([9, 9]));
    first.write(0x2000, new Uint8Array([5, 6, 7, 8]));
    first.eraseRegion(0x2000, 2);
    first.close();

    const again = FlashStore.open(path, SIZE);
    try {
      expect(again.created).toBe(false);
      expect([...again.read(0x1000, 4)]).toEqual([1, 2, 3, 4]);
      expect([...again.read(SIZE - 2, 2)]).toEqual([9, 9]);
      expect([...again.read(0x2000, 4)]).toEqual([0xff, 0xff, 7, 8]);
      again.eraseAll();
    } finally {
      again.close();
    }
    const erased = FlashStore.open(path, SIZE);
    try {
      expect(erased.read(0x1000, 4).every((b) => b === 0xff)).toBe(true);
    } finally {
      erased.close();
    }
  });

  it('refuses an existing file of the wrong size with SIM_START', () => {
    const path = join(dir, 'small.bin');
    writeFileSync(path, new Uint8Array(4096));
    let caught: unknown;
    try {
      FlashStore.open(path, SIZE);
    } catch (err: unknown) {
      caught = err;
    }
    expect(isHilError(caught, 'SIM_START')).toBe(true);
    expect((caught as Error).message).toContain('4096 bytes');
  });

  it('rejects out-of-range access and odd sizes', () => {
    const flash = FlashStore.inMemory(SIZE);
    expect(() => flash.read(SIZE - 1, 2)).toThrow(RangeError);
    expect(() => flash.write(-1, new Uint8Array(1))).toThrow(RangeError);
    expect(() => FlashStore.inMemory(1000)).toThrow(RangeError);
    // read() returns a copy, not a view into the flash.
    flash.read(0, 4).fill(0);
    expect(flash.read(0, 4).every((b) => b === 0xff)).toBe(true);
  });
});

describe('FlashFilesystemStore', () => {
  it('reads null from erased flash, round-trips an image and survives reopening the flash file', () => {
    const path = join(dir, 'board.bin');
    const flash = FlashStore.open(path, SIZE);
    const store = new FlashFilesystemStore(flash, 0x80000, 0x80000);
    expect(store.read()).toBeNull();
    expect(store.capacityBytes).toBe(0x80000 - 12);
    const image = new Uint8Array(5000).map((_, i) => i % 251);
    store.write(image);
    expect(Buffer.from(store.read() ?? []).equals(Buffer.from(image))).toBe(true);
    flash.close();

    const reopened = FlashStore.open(path, SIZE);
    try {
      const again = new FlashFilesystemStore(reopened, 0x80000, 0x80000);
      expect(Buffer.from(again.read() ?? []).equals(Buffer.from(image))).toBe(true);
      // Erasing the flash wipes the filesystem, as on hardware.
      reopened.eraseAll();
      expect(again.read()).toBeNull();
    } finally {
      reopened.close();
    }
  });

  it('throws when the image does not fit and has no capacity without a partition', () => {
    const flash = FlashStore.inMemory(SIZE);
    const store = new FlashFilesystemStore(flash, 0xff000, 0x1000);
    expect(() => store.write(new Uint8Array(0x1000))).toThrow(RangeError);
    store.write(new Uint8Array(0x1000 - 12));
    expect(store.read()).toHaveLength(0x1000 - 12);
    const none = new FlashFilesystemStore(flash, 0, 0);
    expect(none.capacityBytes).toBe(0);
    expect(none.read()).toBeNull();
    // A partition reaching past the end of a smaller flash is clipped.
    expect(new FlashFilesystemStore(flash, 0xf0000, 0x100000).capacityBytes).toBe(0x10000 - 12);
  });
});
