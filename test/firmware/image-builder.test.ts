import { describe, expect, it } from 'vitest';
import { deflateSync } from 'node:zlib';
import { parseEspImage } from '../../runner/firmware/esp-image.ts';
import { parsePartitionTable } from '../../runner/firmware/partition-table.ts';
import { decodeBuildInfo, encodeBuildInfo, readBuildInfo } from '../../sim/firmware/build-info.ts';
import { buildFirmware } from '../../sim/firmware/image-builder.ts';

describe('buildFirmware', () => {
  const fw = buildFirmware({ chip: 'esp32s3', version: 'v1.24.1', quirks: { noEspnow: true, txPowerDbm: 8 } });

  it('makes a realistic-size app that compresses like real firmware (55–65% with zlib)', () => {
    expect(fw.app.length).toBeGreaterThan(1_400_000);
    expect(fw.app.length).toBeLessThan(1_600_000);
    const ratio = deflateSync(fw.app, { level: 9 }).length / fw.app.length;
    expect(ratio).toBeGreaterThan(0.55);
    expect(ratio).toBeLessThan(0.65);
  });

  it('is deterministic and varies with its inputs', () => {
    const again = buildFirmware({ chip: 'esp32s3', version: 'v1.24.1', quirks: { noEspnow: true, txPowerDbm: 8 }, appSizeBytes: 100_000 });
    const same = buildFirmware({ chip: 'esp32s3', version: 'v1.24.1', quirks: { noEspnow: true, txPowerDbm: 8 }, appSizeBytes: 100_000 });
    const other = buildFirmware({ chip: 'esp32s3', version: 'v1.24.0', appSizeBytes: 100_000 });
    expect(Buffer.from(same.app).equals(Buffer.from(again.app))).toBe(true);
    expect(Buffer.from(other.app).equals(Buffer.from(again.app))).toBe(false);
  });

  it('carries board name, MCU name and quirks in the build-info record', () => {
    expect(readBuildInfo(fw.app)).toEqual({ boardName: 'Generic ESP32S3 module', mcuName: 'ESP32S3', quirks: { noEspnow: true, txPowerDbm: 8 } });
    const custom = buildFirmware({ chip: 'esp32', version: 'v1.22.2', boardName: 'ESP32 DevKitC', mcuName: 'ESP32', appSizeBytes: 100_000 });
    expect(readBuildInfo(custom.app)?.boardName).toBe('ESP32 DevKitC');
    expect(readBuildInfo(custom.bootloader)).toBeNull();
  });

  it('lays out bootloader, MicroPython partition table and app at the chip offsets', () => {
    expect(fw.parts.map((p) => [p.name, p.offset])).toEqual([
      ['bootloader', 0x0],
      ['partition-table', 0x8000],
      ['app', 0x10000],
    ]);
    const table = parsePartitionTable(fw.partitionTable);
    expect(table.ok).toBe(true);
    // 8 MiB default on the S3: vfs fills from 0x200000 to the end.
    expect(table.entries.at(-1)).toMatchObject({ label: 'vfs', offset: 0x200000, sizeBytes: 0x600000 });
    const merged = fw.merged();
    expect(merged.length).toBe(0x10000 + fw.app.length);
    expect(merged[fw.bootloader.length]).toBe(0xff);
    expect(Buffer.from(merged.subarray(0x10000)).equals(Buffer.from(fw.app))).toBe(true);
    const esp32 = buildFirmware({ chip: 'esp32', version: 'v1.24.1', appSizeBytes: 100_000, flashSizeBytes: 16 << 20 });
    expect(esp32.parts[0]?.offset).toBe(0x1000);
    expect(parseEspImage(esp32.app).header?.flashSizeBytes).toBe(16 << 20);
  });

  it('builds foreign (non-MicroPython) apps and rejects impossible options', () => {
    const hello = buildFirmware({ chip: 'esp32', version: '1.0', projectName: 'hello_world', appSizeBytes: 100_000 });
    expect(parseEspImage(hello.app).appDescriptor?.projectName).toBe('hello_world');
    expect(() => buildFirmware({ chip: 'esp32', version: 'v1', appSizeBytes: 3_000_000 })).toThrow(RangeError);
    expect(() => buildFirmware({ chip: 'esp32', version: 'v1', flashSizeBytes: 2 << 20 })).toThrow(RangeError);
    expect(() => buildFirmware({ chip: 'esp32', version: 'v1', buildDate: '2024/01/01' })).toThrow(RangeError);
  });

  it('decodes only well-formed build-info records', () => {
    const record = encodeBuildInfo({ boardName: 'b', mcuName: 'm', quirks: {} });
    expect(decodeBuildInfo(record)).toEqual({ boardName: 'b', mcuName: 'm', quirks: {} });
    const broken = record.slice();
    broken[broken.length - 2] = 0x7b; // corrupt the JSON
    expect(decodeBuildInfo(broken)).toBeNull();
    expect(decodeBuildInfo(new Uint8Array(64).fill(0xff))).toBeNull();
  });
});
