import { describe, expect, it } from 'vitest';
import type { ConfigurationSpec } from '../../../runner/usb/descriptors/configuration-spec.ts';
import { encodeConfiguration } from '../../../runner/usb/descriptors/encode-configuration.ts';
import { parseConfiguration } from '../../../runner/usb/descriptors/parse-configuration.ts';
import { descriptorError } from './descriptor-errors.ts';
import {
  configurationBytes,
  ESP32S3_BUILTIN_CONFIG,
  ESP32S3_WITH_RUNTIME_CDC_CONFIG,
  hidKeyboardInterface,
  vendorBulkInterface,
} from './reference-layouts.ts';
import { cdcAcmFunctionSpec, hidKeyboardInterfaceSpec, vendorBulkInterfaceSpec } from './reference-specs.ts';

const builtinCdc = cdcAcmFunctionSpec({ itf: 0, stringIndex: 4, notify: 0x81, out: 0x02, in: 0x82, packetSize: 64 });
const runtimeCdc = cdcAcmFunctionSpec({ itf: 2, stringIndex: 0, notify: 0x83, out: 0x04, in: 0x84, packetSize: 64 });

describe('encodeConfiguration', () => {
  it('builds MicroPython\'s ESP32-S3 built-in configuration byte for byte', () => {
    expect(encodeConfiguration({ maxPowerMa: 250, functions: [builtinCdc] })).toEqual(ESP32S3_BUILTIN_CONFIG);
  });

  it('builds the built-in CDC plus a runtime CDC byte for byte (4 interfaces, self powered)', () => {
    expect(encodeConfiguration({ maxPowerMa: 250, selfPowered: true, functions: [builtinCdc, runtimeCdc] })).toEqual(ESP32S3_WITH_RUNTIME_CDC_CONFIG);
  });

  it('builds a HID keyboard and a vendor interface byte for byte, remote wakeup set', () => {
    const spec: ConfigurationSpec = {
      remoteWakeup: true,
      functions: [{ interfaces: [hidKeyboardInterfaceSpec(0)] }, { interfaces: [vendorBulkInterfaceSpec(1, 0x82, 0x02)] }],
    };
    expect(encodeConfiguration(spec)).toEqual(configurationBytes({ numInterfaces: 2, attributes: 0xa0 }, hidKeyboardInterface(0), vendorBulkInterface(1, 0x82, 0x02)));
  });

  it('numbers alternate settings by position and counts interfaces, not alternates', () => {
    const config = parseConfiguration(encodeConfiguration({
      functions: [{ interfaces: [{ number: 0, alternates: [{ interfaceClass: 0xff }, { interfaceClass: 0xff, endpoints: [{ address: 0x81, transferType: 'bulk', maxPacketSize: 64 }] }] }] }],
    }));
    expect(config.declared.numInterfaces).toBe(1);
    expect(config.interfaces[0]!.alternates.map((alt) => [alt.alternateSetting, alt.declared.numEndpoints])).toEqual([[0, 0], [1, 1]]);
  });

  it('rounds odd milliamperes up to the next 2 mA unit', () => {
    expect(parseConfiguration(encodeConfiguration({ maxPowerMa: 101, functions: [] })).maxPowerMa).toBe(102);
  });

  it('writes declared counts instead of computed ones when asked (for malformed tests)', () => {
    const bytes = encodeConfiguration({ declared: { numInterfaces: 3, totalLength: 80 }, functions: [builtinCdc] });
    expect(bytes[4]).toBe(3);
    expect(bytes[2]! | (bytes[3]! << 8)).toBe(80);
    expect(bytes.length).toBe(75);
  });

  it.each([
    ['an interface number above 255', { functions: [{ interfaces: [{ number: 256, alternates: [{ interfaceClass: 0xff }] }] }] }, /bInterfaceNumber = 256 does not fit/, 11],
    ['more than 510 mA', { maxPowerMa: 600, functions: [] }, /bMaxPower \(maxPowerMa \/ 2\) = 300 does not fit/, 8],
    ['a fractional class code', { functions: [{ interfaces: [{ number: 0, alternates: [{ interfaceClass: 1.5 }] }] }] }, /bInterfaceClass = 1.5/, 14],
    ['a packet size beyond 11 bits', { functions: [{ interfaces: [{ number: 0, alternates: [{ interfaceClass: 0xff, endpoints: [{ address: 1, transferType: 'bulk', maxPacketSize: 4096 }] }] }] }] }, /4096 bytes \(at most 2047\)/, 22],
    ['an endpoint without transfer type', { functions: [{ interfaces: [{ number: 0, alternates: [{ interfaceClass: 0xff, endpoints: [{ address: 1, maxPacketSize: 64 }] }] }] }] }, /neither attributes nor a transfer type/, 18],
    ['a union too long for bLength', { functions: [{ interfaces: [{ number: 0, alternates: [{ interfaceClass: 2, classDescriptors: [{ kind: 'cdc-union', controlInterface: 0, subordinateInterfaces: new Array<number>(260).fill(1) }] }] }] }] }, /bLength = 264/, 18],
  ] as [string, ConfigurationSpec, RegExp, number][])('refuses %s with value-out-of-range', (_case, spec, message, offset) => {
    const err = descriptorError(() => encodeConfiguration(spec));
    expect(err.fault).toBe('value-out-of-range');
    expect(err.message).toMatch(message);
    expect(err.offset).toBe(offset);
  });
});

describe('round trips', () => {
  it.each([
    ['built-in CDC', ESP32S3_BUILTIN_CONFIG],
    ['built-in + runtime CDC', ESP32S3_WITH_RUNTIME_CDC_CONFIG],
    ['HID keyboard + vendor bulk', configurationBytes({ numInterfaces: 2, attributes: 0xa0 }, hidKeyboardInterface(0), vendorBulkInterface(1, 0x82, 0x02))],
    ['alternates, raw class and endpoint descriptors, OTG, audio endpoint tail', configurationBytes({ numInterfaces: 2, stringIndex: 7, value: 2, attributes: 0xc0, maxPowerUnits: 0 },
      [3, 0x09, 0x03],
      [9, 0x04, 0, 0, 0, 0x01, 0x02, 0, 0],
      [9, 0x04, 0, 1, 1, 0x01, 0x02, 0, 0], [7, 0x24, 0x01, 0x01, 0x01, 0x01, 0x00],
      [9, 0x05, 0x01, 0x09, 0xc0, 0x00, 1, 0, 0], [7, 0x25, 0x01, 0x01, 0x01, 0x01, 0x00],
      [9, 0x04, 1, 0, 1, 0x03, 0, 0, 0], [12, 0x21, 0x11, 0x01, 0x21, 2, 0x22, 50, 0, 0x23, 10, 0],
      [7, 0x05, 0x81, 0x03, 0x40, 0x00, 1])],
    ['a defective CDC descriptor kept raw', configurationBytes({ numInterfaces: 1 }, [9, 0x04, 0, 0, 0, 0x02, 0x02, 0, 0], [4, 0x24, 0x06, 0])],
    ['declared counts that disagree with the tree', configurationBytes({ numInterfaces: 3 }, [9, 0x04, 0, 0, 5, 0xff, 0, 0, 0])],
    ['an IAD pointing past the interfaces', configurationBytes({ numInterfaces: 1 }, [8, 0x0b, 0, 3, 0xff, 0, 0, 0], [9, 0x04, 0, 0, 0, 0xff, 0, 0, 0])],
  ])('encode(parse(bytes)) = bytes: %s', (_case, bytes) => {
    expect(encodeConfiguration(parseConfiguration(bytes))).toEqual(bytes);
  });

  it('parse(encode(spec)) gives the spec back', () => {
    const spec: ConfigurationSpec = { maxPowerMa: 250, functions: [builtinCdc, { interfaces: [hidKeyboardInterfaceSpec(2, 0x83)] }] };
    const config = parseConfiguration(encodeConfiguration(spec));
    expect(config.functions).toHaveLength(2);
    expect(config.functions[0]).toMatchObject(builtinCdc);
    expect(config.functions[1]).toMatchObject({ interfaces: [hidKeyboardInterfaceSpec(2, 0x83)] });
  });
});
