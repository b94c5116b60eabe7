import { describe, expect, it } from 'vitest';
import { encodeDeviceDescriptor, parseDeviceDescriptor } from '../../../runner/usb/descriptors/device-descriptor.ts';
import {
  encodeLanguageIds,
  encodeStringDescriptor,
  MAX_STRING_UTF16_UNITS,
  parseLanguageIds,
  parseStringDescriptor,
} from '../../../runner/usb/descriptors/string-descriptors.ts';
import { descriptorError } from './descriptor-errors.ts';
import { ESP32S3_BUILTIN_CONFIG, ESP32S3_BUILTIN_DEVICE, patched } from './reference-layouts.ts';

describe('device descriptor', () => {
  it('reads MicroPython\'s ESP32-S3 built-in device descriptor (reference §8.4)', () => {
    expect(parseDeviceDescriptor(ESP32S3_BUILTIN_DEVICE)).toEqual({
      usbVersion: 0x0200, deviceClass: 0xef, deviceSubClass: 0x02, deviceProtocol: 0x01, maxPacketSize0: 64,
      vendorId: 0x303a, productId: 0x4001, deviceVersion: 0x0100,
      manufacturerStringIndex: 1, productStringIndex: 2, serialNumberStringIndex: 3, numConfigurations: 1,
    });
  });

  it('encodes it byte for byte and round-trips', () => {
    const spec = { vendorId: 0x303a, productId: 0x4001, deviceClass: 0xef, deviceSubClass: 2, deviceProtocol: 1, manufacturerStringIndex: 1, productStringIndex: 2, serialNumberStringIndex: 3 };
    expect(encodeDeviceDescriptor(spec)).toEqual(ESP32S3_BUILTIN_DEVICE);
    expect(encodeDeviceDescriptor(parseDeviceDescriptor(ESP32S3_BUILTIN_DEVICE))).toEqual(ESP32S3_BUILTIN_DEVICE);
  });

  it('fills defaults: USB 2.0, class 0/0/0, 64-byte ep0, bcdDevice 1.00, no strings, one configuration', () => {
    expect(parseDeviceDescriptor(encodeDeviceDescriptor({ vendorId: 0x10c4, productId: 0xea60 }))).toEqual({
      usbVersion: 0x0200, deviceClass: 0, deviceSubClass: 0, deviceProtocol: 0, maxPacketSize0: 64,
      vendorId: 0x10c4, productId: 0xea60, deviceVersion: 0x0100,
      manufacturerStringIndex: 0, productStringIndex: 0, serialNumberStringIndex: 0, numConfigurations: 1,
    });
  });

  it('ignores bytes past bLength', () => {
    expect(parseDeviceDescriptor(Uint8Array.from([...ESP32S3_BUILTIN_DEVICE, 0xff])).productId).toBe(0x4001);
  });

  it.each([
    ['one byte', Uint8Array.of(18), 'truncated', 0],
    ['a configuration descriptor', ESP32S3_BUILTIN_CONFIG, 'wrong-type', 1],
    ['bLength 0', patched(ESP32S3_BUILTIN_DEVICE, (b) => { b[0] = 0; }), 'zero-length', 0],
    ['bLength 8 (the first read of an enumeration)', patched(ESP32S3_BUILTIN_DEVICE, (b) => { b[0] = 8; }), 'too-short', 0],
    ['only 8 bytes', ESP32S3_BUILTIN_DEVICE.slice(0, 8), 'truncated', 8],
  ] as const)('rejects %s: %s at byte %i', (_case, bytes, fault, offset) => {
    const err = descriptorError(() => parseDeviceDescriptor(bytes));
    expect([err.fault, err.offset]).toEqual([fault, offset]);
  });

  it('refuses to encode a VID beyond 16 bits', () => {
    const err = descriptorError(() => encodeDeviceDescriptor({ vendorId: 0x1_0000, productId: 1 }));
    expect([err.fault, err.offset, err.message]).toEqual(['value-out-of-range', 8, 'USB descriptors, byte 8: idVendor = 65536 does not fit (0..65535)']);
  });
});

describe('string descriptors', () => {
  it('reads LANGIDs from string descriptor 0', () => {
    expect(parseLanguageIds(Uint8Array.of(6, 0x03, 0x09, 0x04, 0x07, 0x04))).toEqual([0x0409, 0x0407]);
    expect(encodeLanguageIds()).toEqual(Uint8Array.of(4, 0x03, 0x09, 0x04));
    expect(parseLanguageIds(encodeLanguageIds([0x0409, 0x0411]))).toEqual([0x0409, 0x0411]);
  });

  it('reads UTF-16LE strings, including characters outside the BMP', () => {
    expect(parseStringDescriptor(Uint8Array.of(20, 0x03, ...[...'Board CDC'].flatMap((c) => [c.charCodeAt(0), 0])))).toBe('Board CDC');
    for (const text of ['Espressif Systems', 'Ünïcødé ✓', 'snake 🐍', '']) {
      expect(parseStringDescriptor(encodeStringDescriptor(text))).toBe(text);
    }
    expect(encodeStringDescriptor('AB')).toEqual(Uint8Array.of(6, 0x03, 0x41, 0x00, 0x42, 0x00));
  });

  it('ignores bytes past bLength, as a read with wLength 255 may return them', () => {
    expect(parseStringDescriptor(Uint8Array.of(4, 0x03, 0x41, 0x00, 0x42, 0x00))).toBe('A');
  });

  it('encodes up to 126 UTF-16 code units and refuses more', () => {
    expect(encodeStringDescriptor('x'.repeat(MAX_STRING_UTF16_UNITS))[0]).toBe(254);
    expect(descriptorError(() => encodeStringDescriptor('x'.repeat(MAX_STRING_UTF16_UNITS + 1))).fault).toBe('value-out-of-range');
  });

  it.each([
    ['an empty buffer', Uint8Array.of(), 'truncated', 0],
    ['a device descriptor', ESP32S3_BUILTIN_DEVICE, 'wrong-type', 1],
    ['bLength 0', Uint8Array.of(0, 0x03), 'zero-length', 0],
    ['bLength 1', Uint8Array.of(1, 0x03), 'too-short', 0],
    ['bLength past the bytes', Uint8Array.of(8, 0x03, 0x41, 0x00), 'truncated', 4],
    ['half a UTF-16 code unit', Uint8Array.of(5, 0x03, 0x41, 0x00, 0x42), 'odd-string-length', 0],
  ] as const)('rejects %s: %s at byte %i', (_case, bytes, fault, offset) => {
    const err = descriptorError(() => parseStringDescriptor(bytes));
    expect([err.fault, err.offset]).toEqual([fault, offset]);
    expect(descriptorError(() => parseLanguageIds(bytes)).fault).toBe(fault);
  });
});
