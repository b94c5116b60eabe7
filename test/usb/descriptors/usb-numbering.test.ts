import { describe, expect, it } from 'vitest';
import { parseDeviceDescriptor } from '../../../runner/usb/descriptors/device-descriptor.ts';
import { encodeConfiguration } from '../../../runner/usb/descriptors/encode-configuration.ts';
import { parseConfiguration } from '../../../runner/usb/descriptors/parse-configuration.ts';
import { listEndpoints, usbNumbering } from '../../../runner/usb/descriptors/usb-numbering.ts';
import { validateConfiguration } from '../../../runner/usb/descriptors/validate-configuration.ts';
import { ESP32S3_BUILTIN_CONFIG, ESP32S3_BUILTIN_DEVICE, ESP32S3_RUNTIME_DEVICE, ESP32S3_WITH_RUNTIME_CDC_CONFIG } from './reference-layouts.ts';
import { cdcAcmFunctionSpec, hidKeyboardInterfaceSpec } from './reference-specs.ts';

describe('usbNumbering (MicroPython itf_max / ep_max / str_max, reference §8.3, §9.3)', () => {
  it('gives BUILTIN_CDC\'s 2 / 3 / 5 for the ESP32-S3 built-in device', () => {
    const numbering = usbNumbering(parseConfiguration(ESP32S3_BUILTIN_CONFIG), parseDeviceDescriptor(ESP32S3_BUILTIN_DEVICE));
    expect(numbering).toEqual({
      interfaceNumbers: [0, 1],
      endpointAddresses: [0x02, 0x81, 0x82],
      stringIndexes: [1, 2, 3, 4],
      itfMax: 2,
      epMax: 3,
      strMax: 5,
    });
  });

  it('places a runtime CDC at interfaces 2–3 and endpoints 0x83/0x04/0x84, leaving 4 and 5 for the next', () => {
    const config = parseConfiguration(ESP32S3_WITH_RUNTIME_CDC_CONFIG);
    expect(listEndpoints(config).map(({ interfaceNumber, endpoint }) =>
      [interfaceNumber, endpoint.address, endpoint.transferType, endpoint.maxPacketSize, endpoint.interval])).toEqual([
      [0, 0x81, 'interrupt', 8, 16],
      [1, 0x02, 'bulk', 64, 0],
      [1, 0x82, 'bulk', 64, 0],
      [2, 0x83, 'interrupt', 8, 16],
      [3, 0x04, 'bulk', 64, 0],
      [3, 0x84, 'bulk', 64, 0],
    ]);
    const numbering = usbNumbering(config, parseDeviceDescriptor(ESP32S3_RUNTIME_DEVICE));
    expect(numbering).toMatchObject({ interfaceNumbers: [0, 1, 2, 3], itfMax: 4, epMax: 5, strMax: 5 });
    expect(config.functions.map((fn) => fn.association?.firstInterface)).toEqual([0, 2]);
  });

  it('catches runtime interfaces numbered from 0 / endpoint 1 instead of itf_max / ep_max: they collide with the REPL port', () => {
    const builtin = cdcAcmFunctionSpec({ itf: 0, stringIndex: 4, notify: 0x81, out: 0x02, in: 0x82, packetSize: 64 });
    const refused = (itf: number, endpoint: number): string[] => {
      const config = parseConfiguration(encodeConfiguration({ maxPowerMa: 250, functions: [builtin, { interfaces: [hidKeyboardInterfaceSpec(itf, endpoint)] }] }));
      return validateConfiguration(config).filter((p) => p.severity === 'refuse').map((p) => p.code);
    };
    expect(refused(0, 0x83)).toEqual(['duplicate-interface']);
    expect(refused(2, 0x81)).toEqual(['endpoint-conflict']);
    expect(refused(2, 0x83)).toEqual([]);
  });

  it('adds strings of IADs, interfaces and the configuration, and counts an endpoint number once for IN and OUT', () => {
    const config = parseConfiguration(encodeConfiguration({
      stringIndex: 9,
      functions: [{
        association: { functionClass: 0xff, stringIndex: 7 },
        interfaces: [{ number: 0, alternates: [{ interfaceClass: 0xff, stringIndex: 6, endpoints: [
          { address: 0x85, transferType: 'bulk', maxPacketSize: 64 },
          { address: 0x05, transferType: 'bulk', maxPacketSize: 64 },
        ] }] }],
      }],
    }));
    expect(usbNumbering(config)).toEqual({ interfaceNumbers: [0], endpointAddresses: [0x05, 0x85], stringIndexes: [6, 7, 9], itfMax: 1, epMax: 6, strMax: 10 });
  });

  it('reports 0 / 0 / 1 for an empty configuration: string index 0 is the language list', () => {
    expect(usbNumbering(parseConfiguration(encodeConfiguration({ functions: [] })))).toMatchObject({ itfMax: 0, epMax: 0, strMax: 1 });
  });
});
