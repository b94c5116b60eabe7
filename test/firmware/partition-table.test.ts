import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import {
  AppSubtype,
  DataSubtype,
  PARTITION_TABLE_MAX_BYTES,
  PartitionType,
  buildPartitionTable,
  findBootPartition,
  findFilesystemPartition,
  parsePartitionTable,
  type PartitionEntry,
} from '../../runner/firmware/partition-table.ts';
import { micropythonPartitions } from '../../sim/firmware/image-builder.ts';

const table = micropythonPartitions(4 * 1024 * 1024);

describe('partition table', () => {
  it('round-trips MicroPython\'s layout', () => {
    const bytes = buildPartitionTable(table);
    expect(bytes).toHaveLength(PARTITION_TABLE_MAX_BYTES);
    const info = parsePartitionTable(bytes);
    expect(info.problems).toEqual([]);
    expect(info.entries).toEqual(table);
    expect(info.entries.map((e) => e.label)).toEqual(['nvs', 'phy_init', 'factory', 'vfs']);
    expect(info.entries[3]).toMatchObject({ type: PartitionType.data, subtype: DataSubtype.fat, offset: 0x200000, sizeBytes: 0x200000 });
  });

  it('writes AA 50 entries, then EB EB + 14×FF + MD5 of the entries, then erased bytes', () => {
    const bytes = buildPartitionTable(table);
    expect([...bytes.subarray(0, 2)]).toEqual([0xaa, 0x50]);
    const md5At = table.length * 32;
    expect([...bytes.subarray(md5At, md5At + 16)]).toEqual([0xeb, 0xeb, ...new Array(14).fill(0xff)]);
    const md5 = createHash('md5').update(bytes.subarray(0, md5At)).digest();
    expect(Buffer.from(bytes.subarray(md5At + 16, md5At + 32))).toEqual(md5);
    expect(bytes.subarray(md5At + 32).every((b) => b === 0xff)).toBe(true);
    expect(parsePartitionTable(bytes).md5).toEqual({ stored: md5.toString('hex'), computed: md5.toString('hex') });
  });

  it('detects a damaged entry through the MD5', () => {
    const bytes = buildPartitionTable(table);
    bytes[2 * 32 + 12] = 0x67; // "factory" → "gactory"
    expect(parsePartitionTable(bytes).problems.map((p) => p.code)).toEqual(['BAD_MD5']);
  });

  it('reports an erased table as EMPTY and garbage as BAD_ENTRY', () => {
    expect(parsePartitionTable(new Uint8Array(0xc00).fill(0xff)).problems.map((p) => p.code)).toEqual(['EMPTY']);
    const garbage = buildPartitionTable(table, { withMd5: false });
    garbage[table.length * 32] = 0x12;
    const info = parsePartitionTable(garbage);
    expect(info.problems.map((p) => p.code)).toEqual(['BAD_ENTRY']);
    expect(info.entries).toHaveLength(4);
  });

  it('reports overlapping and misaligned app partitions', () => {
    const bad: PartitionEntry[] = [
      { type: PartitionType.app, subtype: AppSubtype.factory, offset: 0x11000, sizeBytes: 0x100000, label: 'factory', flags: 0 },
      { type: PartitionType.data, subtype: DataSubtype.fat, offset: 0x100000, sizeBytes: 0x100000, label: 'vfs', flags: 0 },
    ];
    const codes = parsePartitionTable(buildPartitionTable(bad)).problems.map((p) => p.code);
    expect(codes).toContain('MISALIGNED_APP');
    expect(codes).toContain('OVERLAP');
  });

  it('boots the factory app, else ota_0; finds the vfs partition', () => {
    expect(findBootPartition(table)?.label).toBe('factory');
    const ota: PartitionEntry[] = [
      { type: PartitionType.data, subtype: DataSubtype.ota, offset: 0xd000, sizeBytes: 0x2000, label: 'otadata', flags: 0 },
      { type: PartitionType.app, subtype: AppSubtype.ota0 + 1, offset: 0x200000, sizeBytes: 0x100000, label: 'ota_1', flags: 0 },
      { type: PartitionType.app, subtype: AppSubtype.ota0, offset: 0x100000, sizeBytes: 0x100000, label: 'ota_0', flags: 0 },
    ];
    expect(findBootPartition(ota)?.label).toBe('ota_0');
    expect(findBootPartition(ota.slice(0, 2))).toBeNull();
    expect(findFilesystemPartition(table)?.label).toBe('vfs');
  });

  it('refuses labels longer than 16 bytes', () => {
    expect(() => buildPartitionTable([{ ...table[0]!, label: 'a-label-that-is-too-long' }])).toThrow(RangeError);
  });
});
