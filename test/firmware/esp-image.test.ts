import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { parseEspImage, problemCodes } from '../../runner/firmware/esp-image.ts';
import { encodeEspImage } from '../../runner/firmware/esp-image-encoder.ts';
import { buildFirmware } from '../../sim/firmware/image-builder.ts';

const esp32 = buildFirmware({ chip: 'esp32', version: 'v1.24.1', appSizeBytes: 200_000, buildDate: '2024-11-29' });
const s3 = buildFirmware({ chip: 'esp32s3', version: 'v1.23.0', appSizeBytes: 200_000 });

function flipped(bytes: Uint8Array, offset: number): Uint8Array {
  const copy = bytes.slice();
  copy[offset] = (copy[offset] ?? 0) ^ 0x5a;
  return copy;
}

describe('parseEspImage on builder output', () => {
  it('accepts a good app image and reads its header, segments and hashes', () => {
    const info = parseEspImage(esp32.app, { expect: 'app', expectedChip: 'esp32', flashOffset: 0x10000 });
    expect(info.problems).toEqual([]);
    expect(info.ok).toBe(true);
    expect(info.header).toMatchObject({ flashModeName: 'DIO', flashSizeBytes: 4 * 1024 * 1024, flashFreqMHz: 40 });
    expect(info.header?.segmentCount).toBe(5);
    expect(info.extendedHeader).toMatchObject({ chipId: 0, chip: 'esp32', hashAppended: true, wpPin: 0xee });
    expect(info.imageLengthBytes).toBe(esp32.app.length);
    expect(info.checksum?.stored).toBe(info.checksum?.computed);
    const sha = createHash('sha256').update(esp32.app.subarray(0, esp32.app.length - 32)).digest();
    expect(Buffer.from(info.sha256?.stored ?? [])).toEqual(sha);
    // DROM first (app descriptor at file offset 0x20), IROM mapped at an MMU-aligned offset.
    expect(info.segments[0]).toMatchObject({ loadAddress: 0x3f400020, dataOffset: 0x20, flashMapped: true });
    const irom = info.segments.find((s) => s.loadAddress === 0x400d0020);
    expect(irom?.flashMapped).toBe(true);
    expect(((irom?.dataOffset ?? 0) + 0x10000) % 0x10000).toBe(0x20);
  });

  it('reads esp_app_desc_t fields', () => {
    const desc = parseEspImage(esp32.app).appDescriptor;
    expect(desc).toMatchObject({
      version: 'v1.24.1',
      projectName: 'micropython',
      time: '12:00:00',
      date: 'Nov 29 2024',
      idfVersion: 'v5.2.2',
      mmuPageSizeLog2: 16,
    });
    expect(desc?.appElfSha256).toHaveLength(32);
  });

  it('reads the bootloader descriptor and verifies the bootloader image', () => {
    const info = parseEspImage(s3.bootloader, { expect: 'bootloader', expectedChip: 'esp32s3', flashOffset: 0 });
    expect(info.problems).toEqual([]);
    expect(info.bootloaderDescriptor).toEqual({ version: 1, idfVersion: 'v5.2.2', dateTime: 'Jan  1 2024 12:00:00' });
    expect(info.extendedHeader?.chipId).toBe(9);
    expect(info.header?.flashFreqMHz).toBe(80);
  });

  it('ignores trailing erased flash after the image', () => {
    const padded = new Uint8Array(esp32.app.length + 4096).fill(0xff);
    padded.set(esp32.app);
    const info = parseEspImage(padded, { expect: 'app' });
    expect(info.ok).toBe(true);
    expect(info.imageLengthBytes).toBe(esp32.app.length);
  });

  it('reports BAD_MAGIC for erased flash', () => {
    const info = parseEspImage(new Uint8Array(64).fill(0xff));
    expect(problemCodes(info)).toEqual(['BAD_MAGIC']);
    expect(info.problems[0]?.message).toContain('invalid header: 0xffffffff');
    expect(info.ok).toBe(false);
  });

  it('reports TRUNCATED for a cut-off image and for a tiny one', () => {
    expect(problemCodes(parseEspImage(esp32.app.subarray(0, esp32.app.length - 1000)))).toEqual(['TRUNCATED']);
    expect(problemCodes(parseEspImage(esp32.app.subarray(0, esp32.app.length - 10)))).toEqual(['TRUNCATED']);
    expect(problemCodes(parseEspImage(esp32.app.subarray(0, 12)))).toEqual(['TRUNCATED']);
  });

  it('reports BAD_CHECKSUM and BAD_SHA256 for a flipped data byte', () => {
    const info = parseEspImage(flipped(esp32.app, 100_000));
    expect(problemCodes(info)).toEqual(['BAD_CHECKSUM', 'BAD_SHA256']);
  });

  it('reports only BAD_SHA256 when the checksum byte is fixed up or the hash is damaged', () => {
    expect(problemCodes(parseEspImage(flipped(esp32.app, esp32.app.length - 5)))).toEqual(['BAD_SHA256']);
    // A flipped header byte is covered by the SHA but not the checksum.
    expect(problemCodes(parseEspImage(flipped(esp32.app, 4)))).toEqual(['BAD_SHA256']);
  });

  it('reports WRONG_CHIP when the image is for another chip, UNKNOWN_CHIP for unsupported ids', () => {
    expect(problemCodes(parseEspImage(s3.app, { expectedChip: 'esp32' }))).toEqual(['WRONG_CHIP']);
    const c3 = esp32.app.slice();
    c3[12] = 5; // ESP32-C3
    const info = parseEspImage(c3);
    expect(problemCodes(info)).toContain('UNKNOWN_CHIP');
    expect(info.problems[0]?.message).toContain('ESP32-C3');
  });

  it('reports BAD_SEGMENT_COUNT beyond 16 segments', () => {
    const bad = esp32.app.slice();
    bad[1] = 17;
    expect(problemCodes(parseEspImage(bad))).toContain('BAD_SEGMENT_COUNT');
  });

  it('reports MISALIGNED_SEGMENT when written at a non-64-KiB-aligned flash offset', () => {
    expect(problemCodes(parseEspImage(esp32.app, { flashOffset: 0x11000 }))).toContain('MISALIGNED_SEGMENT');
  });

  it('reports NO_APP_DESC / NO_BOOTLOADER_DESC when the expected descriptor is missing', () => {
    expect(problemCodes(parseEspImage(esp32.bootloader, { expect: 'app' }))).toEqual(['NO_APP_DESC']);
    expect(problemCodes(parseEspImage(esp32.app, { expect: 'bootloader' }))).toEqual(['NO_BOOTLOADER_DESC']);
  });
});

describe('encodeEspImage', () => {
  it('pads to 16 bytes before the checksum and can omit the hash', () => {
    const image = encodeEspImage({
      chip: 'esp32',
      flashMode: 2,
      flashSizeBytes: 4 * 1024 * 1024,
      flashFreqMHz: 40,
      entryAddress: 0x40080000,
      hashAppended: false,
      segments: [{ loadAddress: 0x40080000, data: new Uint8Array([1, 2, 3]) }],
    });
    // 24 header + 8 segment header + 4 data = 36 → checksum at 47 → 48 bytes.
    expect(image.length).toBe(48);
    expect(image[47]).toBe(0xef ^ 1 ^ 2 ^ 3);
    const info = parseEspImage(image);
    expect(info.ok).toBe(true);
    expect(info.sha256).toBeNull();
  });

  it('rejects an empty segment list', () => {
    expect(() =>
      encodeEspImage({ chip: 'esp32', flashMode: 2, flashSizeBytes: 4 << 20, flashFreqMHz: 40, entryAddress: 0, segments: [] }),
    ).toThrow(RangeError);
  });
});
