import { describe, expect, it } from 'vitest';
import {
  APP_DESC_BYTES,
  appDateFromIso,
  encodeAppDescriptor,
  isoDateFromAppDate,
  parseAppDescriptor,
} from '../../runner/firmware/app-descriptor.ts';
import { encodeBootloaderDescriptor, parseBootloaderDescriptor } from '../../runner/firmware/bootloader-descriptor.ts';

describe('esp_app_desc_t', () => {
  const desc = {
    secureVersion: 3,
    version: 'v1.24.1',
    projectName: 'micropython',
    time: '10:11:12',
    date: 'Nov  9 2024',
    idfVersion: 'v5.2.2',
    appElfSha256: new Uint8Array(32).map((_, i) => i),
    minEfuseBlkRevFull: 0,
    maxEfuseBlkRevFull: 99,
    mmuPageSizeLog2: 16,
  };

  it('round-trips and uses the documented offsets', () => {
    const bytes = encodeAppDescriptor(desc);
    expect(bytes).toHaveLength(APP_DESC_BYTES);
    expect([...bytes.subarray(0, 4)]).toEqual([0x32, 0x54, 0xcd, 0xab]);
    expect(new TextDecoder().decode(bytes.subarray(48, 59))).toBe('micropython');
    expect(bytes[144 + 31]).toBe(31);
    expect(parseAppDescriptor(bytes)).toEqual(desc);
  });

  it('returns null without the magic word and rejects oversize strings', () => {
    expect(parseAppDescriptor(new Uint8Array(256))).toBeNull();
    expect(() => encodeAppDescriptor({ ...desc, time: 'x'.repeat(17) })).toThrow(RangeError);
  });

  it('converts between ISO dates and __DATE__', () => {
    expect(appDateFromIso('2024-11-29')).toBe('Nov 29 2024');
    expect(appDateFromIso('2024-03-05')).toBe('Mar  5 2024');
    expect(isoDateFromAppDate('Mar  5 2024')).toBe('2024-03-05');
    expect(isoDateFromAppDate('Nov 29 2024')).toBe('2024-11-29');
    expect(isoDateFromAppDate('yesterday')).toBeNull();
    expect(() => appDateFromIso('29.11.2024')).toThrow(RangeError);
  });
});

describe('esp_bootloader_desc_t', () => {
  it('round-trips with magic byte 0x50', () => {
    const desc = { version: 1, idfVersion: 'v5.2.2', dateTime: 'Nov 29 2024 12:00:00' };
    const bytes = encodeBootloaderDescriptor(desc);
    expect(bytes).toHaveLength(80);
    expect(bytes[0]).toBe(0x50);
    expect(parseBootloaderDescriptor(bytes)).toEqual(desc);
    expect(parseBootloaderDescriptor(new Uint8Array(80))).toBeNull();
  });
});
