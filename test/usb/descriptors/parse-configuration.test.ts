import { describe, expect, it } from 'vitest';
import { parseConfiguration } from '../../../runner/usb/descriptors/parse-configuration.ts';
import { validateConfiguration } from '../../../runner/usb/descriptors/validate-configuration.ts';
import {
  BOOT_KEYBOARD_REPORT_LENGTH,
  cdcAcmFunction,
  configurationBytes,
  ESP32S3_BUILTIN_CONFIG,
  hidKeyboardInterface,
  vendorBulkInterface,
} from './reference-layouts.ts';

describe('parseConfiguration: real-world layouts', () => {
  it('reads a CDC-ACM function: IAD + 2 interfaces + 3 endpoints with its functional descriptors', () => {
    const bytes = configurationBytes({ numInterfaces: 2, maxPowerUnits: 50 },
      cdcAcmFunction({ itf: 0, stringIndex: 4, notify: 0x81, out: 0x02, in: 0x82, packetSize: 64 }));
    expect(bytes.length).toBe(75);
    const config = parseConfiguration(bytes);

    expect(config).toMatchObject({ configurationValue: 1, attributes: 0x80, selfPowered: false, remoteWakeup: false, maxPowerMa: 100 });
    expect(config.declared).toEqual({ totalLength: 75, numInterfaces: 2 });
    expect(config.functions).toHaveLength(1);
    const [fn] = config.functions;
    expect(fn!.association).toEqual({
      offset: 9, firstInterface: 0, interfaceCount: 2, functionClass: 2, functionSubClass: 2, functionProtocol: 0, stringIndex: 0,
    });
    expect(fn!.interfaces.map((itf) => itf.number)).toEqual([0, 1]);

    const control = fn!.interfaces[0]!.alternates[0]!;
    expect(control).toMatchObject({ offset: 17, interfaceNumber: 0, alternateSetting: 0, interfaceClass: 2, interfaceSubClass: 2, stringIndex: 4 });
    expect(control.classDescriptors).toEqual([
      { kind: 'cdc-header', cdcVersion: 0x0120, offset: 26 },
      { kind: 'cdc-call-management', capabilities: 0, dataInterface: 1, offset: 31 },
      { kind: 'cdc-acm', capabilities: 0x06, offset: 36 },
      { kind: 'cdc-union', controlInterface: 0, subordinateInterfaces: [1], offset: 40 },
    ]);
    expect(control.endpoints).toEqual([{
      offset: 45, address: 0x81, number: 1, direction: 'in', attributes: 0x03, transferType: 'interrupt',
      maxPacketSize: 8, additionalTransactions: 0, interval: 16, tail: new Uint8Array(0), extra: [],
    }]);

    const data = fn!.interfaces[1]!.alternates[0]!;
    expect(data).toMatchObject({ interfaceNumber: 1, interfaceClass: 0x0a, declared: { numEndpoints: 2 } });
    expect(data.endpoints.map((ep) => [ep.address, ep.number, ep.direction, ep.transferType, ep.maxPacketSize])).toEqual([
      [0x02, 2, 'out', 'bulk', 64],
      [0x82, 2, 'in', 'bulk', 64],
    ]);
    expect(validateConfiguration(config)).toEqual([]);
  });

  it('reads a HID boot keyboard interface with its report descriptor reference', () => {
    const config = parseConfiguration(configurationBytes({ numInterfaces: 1, attributes: 0xa0 }, hidKeyboardInterface(0)));
    expect(config.remoteWakeup).toBe(true);
    expect(config.functions).toHaveLength(1);
    expect(config.functions[0]!.association).toBeUndefined();
    const keyboard = config.interfaces[0]!.alternates[0]!;
    expect(keyboard).toMatchObject({ interfaceClass: 3, interfaceSubClass: 1, interfaceProtocol: 1, stringIndex: 5 });
    expect(keyboard.classDescriptors).toEqual([{
      kind: 'hid', offset: 18, hidVersion: 0x0111, countryCode: 0,
      subordinateDescriptors: [{ descriptorType: 0x22, length: BOOT_KEYBOARD_REPORT_LENGTH }],
    }]);
    expect(keyboard.endpoints[0]).toMatchObject({ address: 0x81, transferType: 'interrupt', maxPacketSize: 8, interval: 10 });
    expect(validateConfiguration(config)).toEqual([]);
  });

  it('reads a vendor interface with bulk IN/OUT as a function of its own', () => {
    const config = parseConfiguration(configurationBytes({ numInterfaces: 1 }, vendorBulkInterface(0, 0x81, 0x01)));
    const vendor = config.interfaces[0]!.alternates[0]!;
    expect(vendor.interfaceClass).toBe(0xff);
    expect(vendor.endpoints.map((ep) => `${ep.direction}:${ep.number}:${ep.transferType}:${ep.maxPacketSize}`)).toEqual(['in:1:bulk:64', 'out:1:bulk:64']);
    expect(validateConfiguration(config)).toEqual([]);
  });

  it('reads MicroPython\'s built-in CDC on ESP32-S3 (reference §8.4)', () => {
    const config = parseConfiguration(ESP32S3_BUILTIN_CONFIG);
    expect(config.declared).toEqual({ totalLength: 75, numInterfaces: 2 });
    expect(config.maxPowerMa).toBe(250);
    expect(config.selfPowered).toBe(false);
    expect(config.interfaces[0]!.alternates[0]!.stringIndex).toBe(4);
    expect(config.interfaces.flatMap((itf) => itf.alternates.flatMap((alt) => alt.endpoints.map((ep) => ep.address)))).toEqual([0x81, 0x02, 0x82]);
    expect(validateConfiguration(config)).toEqual([]);
  });

  it('groups a composite device into functions in byte order: IAD groups and lone interfaces', () => {
    const config = parseConfiguration(configurationBytes({ numInterfaces: 4 },
      hidKeyboardInterface(0, 0x83),
      cdcAcmFunction({ itf: 1, stringIndex: 0, notify: 0x81, out: 0x02, in: 0x82, packetSize: 64 }),
      vendorBulkInterface(3, 0x84, 0x04)));
    expect(config.functions.map((fn) => [fn.association?.firstInterface ?? null, fn.interfaces.map((itf) => itf.number)])).toEqual([
      [null, [0]],
      [1, [1, 2]],
      [null, [3]],
    ]);
    expect(config.interfaces.map((itf) => itf.number)).toEqual([0, 1, 2, 3]);
    expect(config.functions[1]!.interfaces[0]).toBe(config.interfaces[1]);
    expect(validateConfiguration(config)).toEqual([]);
  });

  it('gives each interface to the first IAD that claims it, and keeps an IAD past the interfaces as a function without them', () => {
    const config = parseConfiguration(configurationBytes({ numInterfaces: 3 },
      [8, 0x0b, 0, 2, 0xff, 0, 0, 0],
      [9, 0x04, 0, 0, 0, 0xff, 0, 0, 0],
      [9, 0x04, 1, 0, 0, 0xff, 0, 0, 0],
      [8, 0x0b, 1, 2, 0xff, 0, 0, 0],
      [9, 0x04, 2, 0, 0, 0xff, 0, 0, 0],
      [8, 0x0b, 5, 1, 0xff, 0, 0, 0]));
    expect(config.functions.map((fn) => [fn.association?.firstInterface, fn.interfaces.map((itf) => itf.number)])).toEqual([
      [0, [0, 1]],
      [1, [2]],
      [5, []],
    ]);
    expect(config.associations.map((iad) => iad.offset)).toEqual([9, 35, 52]);
  });

  it('collects alternate settings under their interface and attaches descriptors where they belong', () => {
    const otg = [3, 0x09, 0x03];
    const vendorClass = [4, 0x41, 0xaa, 0xbb];
    const csEndpoint = [5, 0x25, 0x01, 0x00, 0x00];
    const config = parseConfiguration(configurationBytes({ numInterfaces: 1 },
      otg,
      [9, 0x04, 0, 0, 0, 0xff, 0, 0, 0],
      [9, 0x04, 0, 1, 2, 0xff, 0, 0, 0],
      vendorClass,
      [7, 0x05, 0x81, 0x02, 64, 0, 0],
      csEndpoint,
      [7, 0x05, 0x01, 0x02, 64, 0, 0]));
    expect(config.extra).toEqual([{ kind: 'raw', offset: 9, descriptorType: 0x09, bytes: Uint8Array.from(otg) }]);
    expect(config.interfaces).toHaveLength(1);
    const [alt0, alt1] = config.interfaces[0]!.alternates;
    expect(alt0!.endpoints).toEqual([]);
    expect(alt1!.alternateSetting).toBe(1);
    expect(alt1!.classDescriptors).toEqual([{ kind: 'raw', offset: 30, descriptorType: 0x41, bytes: Uint8Array.from(vendorClass) }]);
    expect(alt1!.endpoints[0]!.extra).toEqual([{ kind: 'raw', offset: 41, descriptorType: 0x25, bytes: Uint8Array.from(csEndpoint) }]);
    expect(alt1!.endpoints[1]!.extra).toEqual([]);
    expect(validateConfiguration(config)).toEqual([]);
  });

  it('keeps a HID descriptor that follows the endpoint with the interface, as hosts accept', () => {
    const config = parseConfiguration(configurationBytes({ numInterfaces: 1 },
      [9, 0x04, 0, 0, 1, 0x03, 0, 0, 0],
      [7, 0x05, 0x81, 0x03, 8, 0, 10],
      [9, 0x21, 0x11, 0x01, 0, 1, 0x22, 40, 0]));
    const alternate = config.interfaces[0]!.alternates[0]!;
    expect(alternate.classDescriptors.map((d) => d.kind)).toEqual(['hid']);
    expect(alternate.endpoints[0]!.extra).toEqual([]);
  });

  it('decodes 0x21 only in HID interfaces and 0x24 only in CDC communication interfaces', () => {
    const dfuFunctional = [9, 0x21, 0x0b, 0xff, 0x00, 0x00, 0x04, 0x1a, 0x01];
    const audioCsInterface = [9, 0x24, 0x01, 0x00, 0x01, 0x09, 0x00, 0x01, 0x01];
    const config = parseConfiguration(configurationBytes({ numInterfaces: 2 },
      [9, 0x04, 0, 0, 0, 0xfe, 0x01, 0x02, 0], dfuFunctional,
      [9, 0x04, 1, 0, 0, 0x01, 0x01, 0x00, 0], audioCsInterface));
    expect(config.interfaces[0]!.alternates[0]!.classDescriptors[0]).toMatchObject({ kind: 'raw', descriptorType: 0x21 });
    expect(config.interfaces[1]!.alternates[0]!.classDescriptors[0]).toMatchObject({ kind: 'raw', descriptorType: 0x24 });
  });

  it('keeps other CDC functional subtypes raw and reads a union with several subordinates', () => {
    const countrySelection = [6, 0x24, 0x07, 0x01, 0x09, 0x04];
    const config = parseConfiguration(configurationBytes({ numInterfaces: 1 },
      [9, 0x04, 0, 0, 0, 0x02, 0x06, 0, 0],
      [5, 0x24, 0x00, 0x10, 0x01],
      [6, 0x24, 0x06, 0, 1, 2],
      countrySelection));
    expect(config.interfaces[0]!.alternates[0]!.classDescriptors).toEqual([
      { kind: 'cdc-header', cdcVersion: 0x0110, offset: 18 },
      { kind: 'cdc-union', controlInterface: 0, subordinateInterfaces: [1, 2], offset: 23 },
      { kind: 'raw', offset: 29, descriptorType: 0x24, bytes: Uint8Array.from(countrySelection) },
    ]);
  });

  it('reads high-bandwidth packet sizes and the 9-byte endpoints of USB Audio 1.0', () => {
    const config = parseConfiguration(configurationBytes({ numInterfaces: 1 },
      [9, 0x04, 0, 0, 0, 0x01, 0x02, 0, 0],
      [9, 0x04, 0, 1, 2, 0x01, 0x02, 0, 0],
      [9, 0x05, 0x01, 0x09, 0xc0, 0x00, 1, 0, 0],
      [7, 0x05, 0x82, 0x05, 0x00, 0x14, 1]));
    const [audio, highBandwidth] = config.interfaces[0]!.alternates[1]!.endpoints;
    expect(audio).toMatchObject({ transferType: 'isochronous', attributes: 0x09, maxPacketSize: 192, tail: Uint8Array.from([0, 0]) });
    // 0x1400: bits 12..11 = 2 additional transactions, 1024 bytes each.
    expect(highBandwidth).toMatchObject({ transferType: 'isochronous', maxPacketSize: 1024, additionalTransactions: 2 });
  });

  it('ignores bytes past wTotalLength only when asked to', () => {
    const padded = Uint8Array.from([...ESP32S3_BUILTIN_CONFIG, 0xde, 0xad]);
    expect(parseConfiguration(padded, { allowTrailingBytes: true }).declared.totalLength).toBe(75);
  });

  it('copies descriptor bytes, so later changes to the input do not reach the tree', () => {
    const bytes = configurationBytes({ numInterfaces: 1 }, [9, 0x04, 0, 0, 0, 0xff, 0, 0, 0], [4, 0x41, 1, 2]);
    const config = parseConfiguration(bytes);
    bytes[20] = 0x99;
    expect(config.interfaces[0]!.alternates[0]!.classDescriptors[0]).toMatchObject({ bytes: Uint8Array.from([4, 0x41, 1, 2]) });
  });
});
