import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isHilError, type ErrorCode, type HilError } from '../../runner/errors.ts';
import { parseEspImage } from '../../runner/firmware/esp-image.ts';
import { planImageBytes, planImageFile, type ImagePlanTarget } from '../../runner/flash/image-plan.ts';
import { buildFirmware } from '../../sim/firmware/image-builder.ts';

const esp32 = buildFirmware({ chip: 'esp32', version: 'v1.24.1', appSizeBytes: 200_000 });
const esp32s3 = buildFirmware({ chip: 'esp32s3', version: 'v1.23.0', appSizeBytes: 200_000 });
const onEsp32: ImagePlanTarget = { chip: 'esp32', flashSizeBytes: 4 * 1024 * 1024, boardId: 'b1' };
const onS3: ImagePlanTarget = { chip: 'esp32s3', flashSizeBytes: 8 * 1024 * 1024, boardId: 'b2' };

function failure(bytes: Uint8Array, target: ImagePlanTarget): HilError {
  try {
    planImageBytes(bytes, 'fw.bin', target);
  } catch (err: unknown) {
    if (isHilError(err)) return err;
    throw err;
  }
  throw new Error('expected planImageBytes to refuse the image');
}

function expectBadInput(err: HilError, code: ErrorCode, pattern: RegExp): void {
  expect(err.code).toBe(code);
  expect(err.kind).toBe('bad-input');
  expect(err.message).toMatch(/^fw\.bin: /);
  expect(err.message).toMatch(pattern);
  expect(err.evidence.file).toBe('fw.bin');
}

describe('planImageBytes: good images', () => {
  it('splits a merged ESP32 image at the chip offsets', () => {
    const plan = planImageBytes(esp32.merged(), 'fw.bin', onEsp32);
    expect(plan.kind).toBe('merged');
    expect(plan.parts.map((p) => [p.name, p.offset])).toEqual([
      ['bootloader', 0x1000],
      ['partition-table', 0x8000],
      ['app', 0x10000],
    ]);
    expect(Array.from(plan.parts[0]!.data)).toEqual(Array.from(esp32.bootloader));
    expect(Array.from(plan.parts[2]!.data)).toEqual(Array.from(esp32.app));
    expect(plan).toMatchObject({ chip: 'esp32', appVersion: 'v1.24.1', projectName: 'micropython' });
    expect(plan.appSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(plan.summary.join('\n')).toMatch(/merged image/);
  });

  it('splits a merged ESP32-S3 image with the bootloader at 0x0', () => {
    const plan = planImageBytes(esp32s3.merged(), 'fw.bin', onS3);
    expect(plan.parts.map((p) => p.offset)).toEqual([0x0, 0x8000, 0x10000]);
    expect(plan.appVersion).toBe('v1.23.0');
  });

  it('places a bare app at 0x10000 or the given offset', () => {
    const plan = planImageBytes(esp32.app, 'fw.bin', onEsp32);
    expect(plan.kind).toBe('app');
    expect(plan.parts).toHaveLength(1);
    expect(plan.parts[0]).toMatchObject({ name: 'app', offset: 0x10000 });
    expect(planImageBytes(esp32s3.app, 'fw.bin', { ...onS3, appOffset: 0x20000 }).parts[0]?.offset).toBe(0x20000);
  });

  it('writes trailing non-erased data of a merged image as an extra part', () => {
    const merged = esp32.merged();
    const withFs = new Uint8Array(0x300000).fill(0xff);
    withFs.set(merged);
    withFs.fill(0x42, 0x200000, 0x201000);
    const plan = planImageBytes(withFs, 'fw.bin', onEsp32);
    const extra = plan.parts[3];
    expect(extra?.offset).toBe(Math.ceil((0x10000 + esp32.app.length) / 0x1000) * 0x1000);
    expect(extra ? extra.offset + extra.data.length : 0).toBe(0x201000);
  });
});

describe('planImageBytes: bad input', () => {
  it('empty file', () => expectBadInput(failure(new Uint8Array(0), onEsp32), 'FIRMWARE_INVALID', /empty/));

  it('not an ESP image', () => {
    expectBadInput(failure(new TextEncoder().encode('#!/bin/sh\necho hello\n'), onEsp32), 'FIRMWARE_INVALID', /not an ESP image/);
  });

  it('truncated app and truncated merged image', () => {
    expectBadInput(failure(esp32.app.subarray(0, 50_000), onEsp32), 'FIRMWARE_INVALID', /truncated/);
    expectBadInput(failure(esp32.merged().subarray(0, 0x10000 + 50_000), onEsp32), 'FIRMWARE_INVALID', /app at 0x00010000 is truncated/);
  });

  it('bad checksum', () => {
    const bad = esp32.app.slice();
    const info = parseEspImage(bad);
    const seg = info.segments[1]!;
    bad[seg.dataOffset + 10] = (bad[seg.dataOffset + 10] ?? 0) ^ 0x01;
    expectBadInput(failure(bad, onEsp32), 'FIRMWARE_INVALID', /bad checksum/);
  });

  it('bad SHA-256', () => {
    const bad = esp32s3.app.slice();
    const info = parseEspImage(bad);
    bad[info.sha256!.offset] = (bad[info.sha256!.offset] ?? 0) ^ 0x01;
    expectBadInput(failure(bad, onS3), 'FIRMWARE_INVALID', /bad SHA-256/);
  });

  it('image for another chip: bare app, merged image either way', () => {
    expectBadInput(failure(esp32s3.app, onEsp32), 'FLASH_CHIP_MISMATCH', /ESP32-S3/);
    expectBadInput(failure(esp32s3.merged(), onEsp32), 'FLASH_CHIP_MISMATCH', /ESP32-S3/);
    expectBadInput(failure(esp32.merged(), onS3), 'FLASH_CHIP_MISMATCH', /ESP32/);
  });

  it('larger than the board’s flash (file end and header flash size)', () => {
    const tooLong = new Uint8Array(4 * 1024 * 1024 + 0x1000).fill(0xff);
    tooLong.set(esp32.merged());
    tooLong[tooLong.length - 1] = 0;
    expectBadInput(failure(tooLong, onEsp32), 'FIRMWARE_INVALID', /ends at 0x00401000, beyond the board's 4MB flash/);
    expectBadInput(failure(esp32.merged(), { chip: 'esp32', flashSizeBytes: 0x20000 }), 'FIRMWARE_INVALID', /larger than the board's 128 KiB/);
    expectBadInput(failure(esp32s3.app, { chip: 'esp32s3', flashSizeBytes: 4 * 1024 * 1024 }), 'FIRMWARE_INVALID', /built for 8MB flash/);
  });

  it('a bootloader alone', () => {
    expectBadInput(failure(esp32.bootloader, onEsp32), 'FIRMWARE_INVALID', /bootloader image/);
  });
});

describe('planImageFile', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hil-image-plan-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a file', async () => {
    const path = join(dir, 'fw.bin');
    await writeFile(path, esp32.merged());
    expect((await planImageFile(path, onEsp32)).appVersion).toBe('v1.24.1');
  });

  it('refuses a missing path, a directory and an empty file, naming the path', async () => {
    const missing = join(dir, 'nope.bin');
    const empty = join(dir, 'empty.bin');
    await writeFile(empty, new Uint8Array(0));
    for (const [path, pattern] of [
      [missing, /no such file/],
      [dir, /is a directory/],
      [empty, /empty/],
    ] as const) {
      const err: unknown = await planImageFile(path, onEsp32).catch((e: unknown) => e);
      expect(isHilError(err, 'FIRMWARE_INVALID')).toBe(true);
      expect((err as HilError).message).toContain(path);
      expect((err as HilError).message).toMatch(pattern);
      expect((err as HilError).evidence.file).toBe(path);
    }
  });
});
