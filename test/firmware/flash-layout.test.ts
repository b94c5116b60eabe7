import { describe, expect, it } from 'vitest';
import { flashReaderFromBytes, locateBootApp } from '../../runner/firmware/flash-layout.ts';
import { AppSubtype, PartitionType, buildPartitionTable } from '../../runner/firmware/partition-table.ts';
import { buildFirmware } from '../../sim/firmware/image-builder.ts';

const esp32 = buildFirmware({ chip: 'esp32', version: 'v1.24.1', appSizeBytes: 150_000 });
const s3 = buildFirmware({ chip: 'esp32s3', version: 'v1.24.1', appSizeBytes: 150_000 });

describe('locateBootApp', () => {
  it('finds bootloader, table and factory app of a merged ESP32 image (bootloader at 0x1000)', () => {
    const target = locateBootApp(flashReaderFromBytes(esp32.merged(), 4 << 20), 'esp32');
    expect(target.bootable).toBe(true);
    expect(target.bootloaderOffset).toBe(0x1000);
    expect(target.appPartition?.label).toBe('factory');
    expect(target.app?.appDescriptor?.version).toBe('v1.24.1');
    expect(target.filesystemPartition?.label).toBe('vfs');
  });

  it('uses offset 0 for the S3 bootloader, so an ESP32 image does not boot on an S3 and vice versa', () => {
    expect(locateBootApp(s3.merged(), 'esp32s3').bootable).toBe(true);
    const crossed = locateBootApp(esp32.merged(), 'esp32s3');
    expect(crossed.bootable).toBe(false);
    expect(crossed.bootloader.problems.map((p) => p.code)).toEqual(['BAD_MAGIC']);
  });

  it('reports a foreign-chip app behind a valid bootloader as WRONG_CHIP', () => {
    const flash = esp32.merged();
    const mixed = new Uint8Array(0x10000 + s3.app.length).fill(0xff);
    mixed.set(flash.subarray(0, 0x10000));
    mixed.set(s3.app, 0x10000);
    const target = locateBootApp(mixed, 'esp32');
    expect(target.bootloader.ok).toBe(true);
    expect(target.app?.problems.map((p) => p.code)).toEqual(['WRONG_CHIP']);
    expect(target.bootable).toBe(false);
  });

  it('falls back to ota_0 when there is no factory partition', () => {
    const flash = new Uint8Array(0x110000).fill(0xff);
    flash.set(esp32.bootloader, 0x1000);
    flash.set(
      buildPartitionTable([{ type: PartitionType.app, subtype: AppSubtype.ota0, offset: 0x20000, sizeBytes: 0xf0000, label: 'ota_0', flags: 0 }]),
      0x8000,
    );
    flash.set(esp32.app, 0x20000);
    const target = locateBootApp(flash, 'esp32');
    expect(target.appPartition?.label).toBe('ota_0');
    expect(target.bootable).toBe(true);
  });

  it('reports blank flash stage by stage', () => {
    const target = locateBootApp(flashReaderFromBytes(new Uint8Array(0), 4 << 20), 'esp32');
    expect(target.bootable).toBe(false);
    expect(target.bootloader.problems.map((p) => p.code)).toEqual(['BAD_MAGIC']);
    expect(target.partitionTable?.problems.map((p) => p.code)).toEqual(['EMPTY']);
    expect(target.app).toBeNull();
  });
});
