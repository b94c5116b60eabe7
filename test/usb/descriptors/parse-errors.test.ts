import { describe, expect, it } from 'vitest';
import { HilError } from '../../../runner/errors.ts';
import { parseConfiguration } from '../../../runner/usb/descriptors/parse-configuration.ts';
import { USB_DESCRIPTOR_ERROR_CODE, UsbDescriptorError, type UsbDescriptorFault } from '../../../runner/usb/descriptors/usb-descriptor-error.ts';
import { descriptorError } from './descriptor-errors.ts';
import { configurationBytes, ESP32S3_BUILTIN_CONFIG, ESP32S3_BUILTIN_DEVICE, patched } from './reference-layouts.ts';

const vendorInterface = [9, 0x04, 0, 0, 0, 0xff, 0, 0, 0];

/** [case, bytes, fault, offset, message fragment] */
const malformed: [string, Uint8Array, UsbDescriptorFault, number, RegExp][] = [
  ['no bytes at all', new Uint8Array(0), 'truncated', 0, /0 byte\(s\)/],
  ['a device descriptor where the configuration is required', ESP32S3_BUILTIN_DEVICE, 'wrong-type', 1, /type 0x01 where a configuration descriptor \(0x02\)/],
  ['configuration bLength 0', patched(ESP32S3_BUILTIN_CONFIG, (b) => { b[0] = 0; }), 'zero-length', 0, /bLength 0/],
  ['configuration bLength 5', patched(ESP32S3_BUILTIN_CONFIG, (b) => { b[0] = 5; }), 'too-short', 0, /bLength 5, its fields need 9/],
  ['configuration descriptor cut short', ESP32S3_BUILTIN_CONFIG.slice(0, 6), 'truncated', 6, /ends after 6 of 9/],
  ['wTotalLength below the header', patched(ESP32S3_BUILTIN_CONFIG, (b) => { b[2] = 4; }), 'total-length-mismatch', 2, /wTotalLength 4 is shorter/],
  ['wTotalLength beyond the bytes (truncated tree)', ESP32S3_BUILTIN_CONFIG.slice(0, 60), 'total-length-mismatch', 2, /wTotalLength 75 but only 60 bytes/],
  ['bytes beyond wTotalLength', Uint8Array.from([...ESP32S3_BUILTIN_CONFIG, 0]), 'total-length-mismatch', 75, /1 byte\(s\) lie outside/],
  ['wTotalLength shorter than the descriptors', patched(ESP32S3_BUILTIN_CONFIG, (b) => { b[2] = 70; }).slice(0, 70), 'past-end', 68, /runs 5 byte\(s\) past wTotalLength \(70\)/],
  ['an inner bLength 0', patched(ESP32S3_BUILTIN_CONFIG, (b) => { b[26] = 0; }), 'zero-length', 26, /bLength 0 \(descriptor type 0x24\)/],
  ['an inner bLength 1', patched(ESP32S3_BUILTIN_CONFIG, (b) => { b[26] = 1; }), 'too-short', 26, /shorter than the 2-byte descriptor header/],
  ['an inner bLength past the end', patched(ESP32S3_BUILTIN_CONFIG, (b) => { b[68] = 9; }), 'past-end', 68, /runs 2 byte\(s\) past/],
  ['an inner bLength one byte past the end', patched(ESP32S3_BUILTIN_CONFIG, (b) => { b[68] = 8; }), 'past-end', 68, /runs 1 byte\(s\) past wTotalLength \(75\)/],
  ['one stray byte at the end', configurationBytes({ numInterfaces: 1 }, vendorInterface, [2]), 'truncated', 18, /1 byte left/],
  ['an interface descriptor of 5 bytes', configurationBytes({ numInterfaces: 1 }, [5, 0x04, 0, 0, 0]), 'too-short', 9, /interface descriptor has bLength 5, its fields need 9/],
  ['an endpoint descriptor of 6 bytes', configurationBytes({ numInterfaces: 1 }, vendorInterface, [6, 0x05, 0x81, 2, 64, 0]), 'too-short', 18, /endpoint descriptor has bLength 6/],
  ['an IAD of 7 bytes', configurationBytes({ numInterfaces: 1 }, [7, 0x0b, 0, 1, 0xff, 0, 0], vendorInterface), 'too-short', 9, /interface association descriptor has bLength 7/],
  ['an endpoint before any interface', configurationBytes({ numInterfaces: 1 }, [7, 0x05, 0x81, 2, 64, 0, 0], vendorInterface), 'misplaced', 9, /endpoint descriptor before any interface/],
  ['a device descriptor inside the configuration', configurationBytes({ numInterfaces: 1 }, vendorInterface, [...ESP32S3_BUILTIN_DEVICE]), 'misplaced', 18, /a device descriptor cannot appear/],
  ['a configuration inside the configuration', configurationBytes({ numInterfaces: 1 }, vendorInterface, [9, 0x02, 9, 0, 0, 1, 0, 0x80, 50]), 'misplaced', 18, /a configuration descriptor cannot appear/],
  ['a string descriptor inside the configuration', configurationBytes({ numInterfaces: 1 }, vendorInterface, [4, 0x03, 0x41, 0]), 'misplaced', 18, /a string descriptor cannot appear/],
];

describe('parseConfiguration: malformed input', () => {
  it.each(malformed)('%s → %s at byte %i', (_case, bytes, fault, offset, message) => {
    const err = descriptorError(() => parseConfiguration(bytes));
    expect(err.fault).toBe(fault);
    expect(err.offset).toBe(offset);
    expect(err.message).toMatch(message);
    expect(err.message).toContain(`byte ${offset}:`);
  });

  it('raises a catalogued HilError with evidence a person can read', () => {
    const err = descriptorError(() => parseConfiguration(patched(ESP32S3_BUILTIN_CONFIG, (b) => { b[26] = 0; })));
    expect(err).toBeInstanceOf(HilError);
    expect(err).toBeInstanceOf(UsbDescriptorError);
    expect(err.code).toBe(USB_DESCRIPTOR_ERROR_CODE);
    expect(err.kind).toBe('infrastructure');
    expect(err.evidence).toMatchObject({ phase: 'usb-descriptors', fault: 'zero-length', offset: 26, descriptorBytes: '00 24 00 20 01 05 24 01 00 01 04 24 02 06 05 24 06 00 01 07 05 81 03 08 00 10 09 04 01 00 02 0a' });
  });
});
