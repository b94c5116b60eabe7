import { describe, expect, it } from 'vitest';
import { refusals, type UsbProblemCode } from '../../../runner/usb/descriptors/configuration-problem.ts';
import type { AlternateSettingSpec, ConfigurationSpec, EndpointSpec } from '../../../runner/usb/descriptors/configuration-spec.ts';
import { parseDeviceDescriptor } from '../../../runner/usb/descriptors/device-descriptor.ts';
import { encodeConfiguration } from '../../../runner/usb/descriptors/encode-configuration.ts';
import { assertEnumerable } from '../../../runner/usb/descriptors/enumerability.ts';
import { parseConfiguration } from '../../../runner/usb/descriptors/parse-configuration.ts';
import type { UsbSpeed } from '../../../runner/usb/descriptors/usb-constants.ts';
import { validateConfiguration } from '../../../runner/usb/descriptors/validate-configuration.ts';
import { validateDeviceDescriptor } from '../../../runner/usb/descriptors/validate-device.ts';
import { descriptorError } from './descriptor-errors.ts';
import {
  configurationBytes,
  ESP32S3_BUILTIN_CONFIG,
  ESP32S3_BUILTIN_DEVICE,
  ESP32S3_RUNTIME_DEVICE,
  ESP32S3_WITH_RUNTIME_CDC_CONFIG,
} from './reference-layouts.ts';
import { cdcAcmFunctionSpec, hidKeyboardInterfaceSpec, vendorBulkInterfaceSpec } from './reference-specs.ts';

function problemsOf(spec: ConfigurationSpec, speed?: UsbSpeed): { code: UsbProblemCode; severity: string; offset: number; message: string }[] {
  return validateConfiguration(parseConfiguration(encodeConfiguration(spec)), speed === undefined ? {} : { speed });
}

function codes(spec: ConfigurationSpec, speed?: UsbSpeed): string[] {
  return problemsOf(spec, speed).map((problem) => `${problem.code}:${problem.severity}`);
}

function vendor(number: number, alternate: Partial<AlternateSettingSpec> = {}): ConfigurationSpec['functions'][number] {
  return { interfaces: [{ number, alternates: [{ interfaceClass: 0xff, ...alternate }] }] };
}

function oneEndpoint(endpoint: EndpointSpec, alternate: Partial<AlternateSettingSpec> = {}): ConfigurationSpec {
  return { functions: [vendor(0, { endpoints: [endpoint], ...alternate })] };
}

const cdc0 = cdcAcmFunctionSpec({ itf: 0, stringIndex: 4, notify: 0x81, out: 0x02, in: 0x82, packetSize: 64 });

describe('validateConfiguration: configuration and interfaces', () => {
  it('finds nothing wrong with MicroPython\'s built-in device, with or without a runtime CDC', () => {
    expect(validateConfiguration(parseConfiguration(ESP32S3_BUILTIN_CONFIG), { device: parseDeviceDescriptor(ESP32S3_BUILTIN_DEVICE) })).toEqual([]);
    expect(validateConfiguration(parseConfiguration(ESP32S3_WITH_RUNTIME_CDC_CONFIG))).toEqual([]);
  });

  it('refuses bConfigurationValue 0, power beyond 500 mA, and warns about reserved attribute bits', () => {
    expect(codes({ configurationValue: 0, maxPowerMa: 510, attributes: 0x01, functions: [vendor(0)] })).toEqual([
      'configuration-value-zero:refuse',
      'configuration-attributes-reserved:warning',
      'configuration-power-over-limit:refuse',
    ]);
    expect(codes({ maxPowerMa: 500, functions: [vendor(0)] })).toEqual([]);
  });

  it('refuses a bNumInterfaces that disagrees with the interfaces described', () => {
    const [problem] = problemsOf({ declared: { numInterfaces: 3 }, functions: [cdc0] });
    expect(problem).toEqual({
      code: 'num-interfaces-mismatch', severity: 'refuse', descriptor: 'configuration', offset: 0,
      message: 'bNumInterfaces 3 but 2 interface(s) are described (0, 1)',
    });
  });

  it('warns about a configuration without interfaces', () => {
    expect(codes({ functions: [] })).toEqual(['no-interfaces:warning']);
  });

  it('warns about interface numbers that do not run from zero without gaps', () => {
    const problems = problemsOf({ functions: [vendor(0), vendor(2)] });
    expect(problems.map((p) => p.code)).toEqual(['interface-number-gap']);
    expect(problems[0]!.message).toContain('interface numbers 0, 2 are not 0..1');
    expect(problems[0]!.offset).toBe(18);
  });

  it('refuses two descriptors for the same interface number and alternate setting', () => {
    const problems = problemsOf({
      declared: { numInterfaces: 1 },
      functions: [vendor(0, { endpoints: [{ address: 0x81, transferType: 'bulk', maxPacketSize: 64 }] }), vendor(0, { endpoints: [{ address: 0x82, transferType: 'bulk', maxPacketSize: 64 }] })],
    });
    expect(problems.map((p) => `${p.code}@${p.offset}`)).toEqual(['duplicate-interface@25']);
    expect(problems[0]!.message).toBe('interface 0 alt 0 is described twice');
  });

  it('refuses an interface without alternate setting 0 and warns about gaps between alternates', () => {
    expect(codes({ functions: [{ interfaces: [{ number: 0, alternates: [{ interfaceClass: 0xff, alternateSetting: 1 }] }] }] }))
      .toEqual(['missing-default-alternate:refuse']);
    expect(codes({ functions: [{ interfaces: [{ number: 0, alternates: [{ interfaceClass: 0xff }, { interfaceClass: 0xff, alternateSetting: 2 }] }] }] }))
      .toEqual(['alternate-gap:warning']);
  });
});

describe('validateConfiguration: endpoints', () => {
  it('refuses a bNumEndpoints that disagrees with the endpoint descriptors', () => {
    expect(codes({ functions: [vendor(0, { declared: { numEndpoints: 3 }, endpoints: [{ address: 0x81, transferType: 'bulk', maxPacketSize: 64 }] })] }))
      .toEqual(['endpoint-count-mismatch:refuse']);
  });

  it('refuses endpoint address 0 and warns about reserved address bits', () => {
    const problems = problemsOf(oneEndpoint({ address: 0x80, transferType: 'bulk', maxPacketSize: 64 }));
    expect(problems.map((p) => p.code)).toEqual(['endpoint-zero']);
    expect(problems[0]).toMatchObject({ severity: 'refuse', offset: 18, message: 'interface 0 alt 0 endpoint 0x80 (EP 0 IN): endpoint 0 is the default control pipe and cannot belong to an interface' });
    expect(codes(oneEndpoint({ address: 0x91, transferType: 'bulk', maxPacketSize: 64 }))).toEqual(['endpoint-address-reserved-bits:warning']);
  });

  it('warns about reserved bmAttributes bits, which isochronous endpoints use for synchronisation', () => {
    expect(codes(oneEndpoint({ address: 0x81, attributes: 0x0e, maxPacketSize: 64 }))).toEqual(['endpoint-attributes-reserved-bits:warning']);
    expect(codes(oneEndpoint({ address: 0x81, attributes: 0x0d, maxPacketSize: 64, interval: 1 }, { alternateSetting: 0 }))).toEqual(['max-packet-size:warning']);
  });

  it('refuses the same endpoint address twice in one setting', () => {
    const endpoint: EndpointSpec = { address: 0x81, transferType: 'bulk', maxPacketSize: 64 };
    expect(codes({ functions: [vendor(0, { endpoints: [endpoint, endpoint] })] })).toEqual(['duplicate-endpoint:refuse']);
  });

  it('refuses two interfaces that use one endpoint in their default settings, but not across alternates', () => {
    const shared = { endpoints: [{ address: 0x81, transferType: 'bulk' as const, maxPacketSize: 64 }] };
    const problems = problemsOf({ functions: [vendor(0, shared), vendor(1, shared)] });
    expect(problems.map((p) => p.code)).toEqual(['endpoint-conflict']);
    expect(problems[0]!.message).toBe('interfaces 0 and 1 both use endpoint 0x81 (EP 1 IN) in their default settings');
    expect(codes({ functions: [{ interfaces: [{ number: 0, alternates: [{ interfaceClass: 0xff }, { interfaceClass: 0xff, ...shared }] }] }, vendor(1, shared)] }))
      .toEqual([]);
  });

  it('refuses wMaxPacketSize 0 except on isochronous endpoints, whose default settings must reserve none', () => {
    expect(codes(oneEndpoint({ address: 0x81, transferType: 'interrupt', maxPacketSize: 0, interval: 1 }))).toEqual(['max-packet-size-zero:refuse']);
    expect(codes(oneEndpoint({ address: 0x81, transferType: 'isochronous', maxPacketSize: 0, interval: 1 }))).toEqual([]);
  });

  it.each([
    ['full', { address: 0x81, transferType: 'bulk', maxPacketSize: 512 }, 'max-packet-size'],
    ['full', { address: 0x81, transferType: 'bulk', maxPacketSize: 48 }, 'max-packet-size'],
    ['high', { address: 0x81, transferType: 'bulk', maxPacketSize: 64 }, 'max-packet-size'],
    ['full', { address: 0x81, transferType: 'interrupt', maxPacketSize: 65, interval: 1 }, 'max-packet-size'],
    ['low', { address: 0x81, transferType: 'interrupt', maxPacketSize: 16, interval: 10 }, 'max-packet-size'],
    ['full', { address: 0x81, transferType: 'control', maxPacketSize: 40 }, 'max-packet-size'],
    ['low', { address: 0x81, transferType: 'bulk', maxPacketSize: 8 }, 'transfer-type-speed'],
    ['full', { address: 0x81, transferType: 'interrupt', maxPacketSize: 64, interval: 0 }, 'interval'],
    ['high', { address: 0x81, transferType: 'interrupt', maxPacketSize: 64, interval: 17 }, 'interval'],
    ['full', { address: 0x81, transferType: 'interrupt', maxPacketSize: 64, interval: 1, additionalTransactions: 1 }, 'additional-transactions'],
    ['high', { address: 0x81, transferType: 'interrupt', maxPacketSize: 1024, interval: 1, additionalTransactions: 3 }, 'additional-transactions'],
  ] as [UsbSpeed, EndpointSpec, UsbProblemCode][])('%s speed: %o → %s (warning)', (speed, endpoint, code) => {
    expect(codes(oneEndpoint(endpoint), speed)).toEqual([`${code}:warning`]);
  });

  it.each([
    ['full', { address: 0x81, transferType: 'bulk', maxPacketSize: 64 }],
    ['high', { address: 0x81, transferType: 'bulk', maxPacketSize: 512 }],
    ['high', { address: 0x81, transferType: 'interrupt', maxPacketSize: 1024, interval: 16, additionalTransactions: 2 }],
    ['full', { address: 0x81, transferType: 'interrupt', maxPacketSize: 64, interval: 255 }],
    ['low', { address: 0x81, transferType: 'interrupt', maxPacketSize: 8, interval: 10 }],
  ] as [UsbSpeed, EndpointSpec][])('%s speed: %o is fine', (speed, endpoint) => {
    expect(codes(oneEndpoint(endpoint), speed)).toEqual([]);
  });
});

describe('validateConfiguration: interface associations', () => {
  it('refuses an IAD pointing past the interfaces, naming the missing ones', () => {
    const problems = problemsOf({ functions: [{ association: { functionClass: 2, interfaceCount: 3 }, interfaces: cdc0.interfaces }] });
    expect(problems.map((p) => `${p.code}:${p.severity}@${p.offset}`)).toEqual(['iad-past-interfaces:refuse@9']);
    expect(problems[0]!.message).toBe('IAD at byte 9 (interfaces 0..2) points past the interfaces: 2 not described (have 0, 1)');
  });

  it('refuses an empty IAD and overlapping IADs', () => {
    expect(codes({ functions: [{ association: { functionClass: 0xff, interfaceCount: 0 }, interfaces: [] }, vendor(0)] })).toEqual(['iad-empty:refuse']);
    const problems = problemsOf({ functions: [cdc0, { association: { functionClass: 2, firstInterface: 1, interfaceCount: 2 }, interfaces: vendor(2).interfaces }] });
    expect(problems.map((p) => p.code)).toEqual(['iad-overlap']);
    expect(problems[0]!.message).toBe('IAD at byte 75 (interfaces 1..2) claims interface 1, already grouped by the IAD at byte 9');
  });

  it('warns about an IAD after its interfaces and one with function class 0', () => {
    const bytes = configurationBytes({ numInterfaces: 1 }, [9, 0x04, 0, 0, 0, 0xff, 0, 0, 0], [8, 0x0b, 0, 1, 0x00, 0, 0, 0]);
    expect(validateConfiguration(parseConfiguration(bytes)).map((p) => p.code)).toEqual(['iad-misplaced', 'iad-function-class-zero']);
  });

  it('warns when IADs are used without the ef/02/01 device class (MicroPython runtime default 0/0/0, reference §9.6)', () => {
    const problems = validateConfiguration(parseConfiguration(ESP32S3_WITH_RUNTIME_CDC_CONFIG), { device: parseDeviceDescriptor(ESP32S3_RUNTIME_DEVICE) });
    expect(problems.map((p) => `${p.code}:${p.severity}`)).toEqual(['iad-device-class:warning']);
    expect(problems[0]!.message).toContain('00/00/00, not ef/02/01');
  });
});

describe('validateConfiguration: class drivers', () => {
  it('reports a CDC functional descriptor too short to decode as a driver problem', () => {
    const bytes = configurationBytes({ numInterfaces: 1 }, [9, 0x04, 0, 0, 1, 0x02, 0x02, 0, 0], [4, 0x24, 0x06, 0], [7, 0x05, 0x81, 0x03, 8, 0, 16]);
    const problems = validateConfiguration(parseConfiguration(bytes));
    expect(problems.map((p) => `${p.code}:${p.severity}`)).toEqual(['class-descriptor-malformed:driver', 'cdc-union-missing:warning']);
    expect(problems[0]!.message).toBe('interface 0 alt 0: CDC union functional descriptor has bLength 4, its fields need 5');
  });

  it('reports HID interfaces without HID descriptor, report descriptor or interrupt IN endpoint', () => {
    expect(codes({ functions: [{ interfaces: [{ number: 0, alternates: [{ interfaceClass: 3 }] }] }] }))
      .toEqual(['hid-descriptor-missing:driver', 'hid-interrupt-in-missing:driver']);
    expect(codes({ functions: [{ interfaces: [{ number: 0, alternates: [{
      interfaceClass: 3, classDescriptors: [{ kind: 'hid', hidVersion: 0x0111, countryCode: 0, subordinateDescriptors: [{ descriptorType: 0x23, length: 10 }] }],
      endpoints: [{ address: 0x81, transferType: 'interrupt', maxPacketSize: 8, interval: 10 }],
    }] }] }] })).toEqual(['hid-report-descriptor-missing:driver']);
    expect(codes({ functions: [{ interfaces: [hidKeyboardInterfaceSpec(0)] }] })).toEqual([]);
  });

  it('reports a CDC-ACM control interface whose union or call management name missing interfaces', () => {
    const lonely = { functions: [{ interfaces: [cdc0.interfaces[0]!] }] };
    expect(codes(lonely)).toEqual([
      'cdc-call-management-interface-missing:warning',
      'cdc-union-interface-missing:driver',
    ]);
  });

  it('reports a CDC-ACM control interface without notification endpoint or union', () => {
    expect(codes({ functions: [{ interfaces: [{ number: 0, alternates: [{ interfaceClass: 2, interfaceSubClass: 2 }] }] }] }))
      .toEqual(['cdc-notification-endpoint-missing:driver', 'cdc-union-missing:warning']);
  });

  it('reports a CDC data interface without a bulk IN/OUT pair in any setting', () => {
    const noData = { ...cdc0, interfaces: [cdc0.interfaces[0]!, { number: 1, alternates: [{ interfaceClass: 0x0a, endpoints: [{ address: 0x82, transferType: 'bulk' as const, maxPacketSize: 64 }] }] }] };
    expect(codes({ functions: [noData] })).toEqual(['cdc-data-endpoints-missing:driver']);
    const inAlternate = { ...cdc0, interfaces: [cdc0.interfaces[0]!, { number: 1, alternates: [{ interfaceClass: 0x0a }, cdc0.interfaces[1]!.alternates[0]!] }] };
    expect(codes({ functions: [inAlternate] })).toEqual([]);
  });
});

describe('device descriptor rules and enumerability', () => {
  it('refuses an ep0 packet size the speed does not allow and zero configurations', () => {
    const device = { ...parseDeviceDescriptor(ESP32S3_BUILTIN_DEVICE), maxPacketSize0: 64, numConfigurations: 0 };
    expect(validateDeviceDescriptor(device, 'full').map((p) => `${p.code}@${p.offset}`)).toEqual(['device-no-configurations@17']);
    expect(validateDeviceDescriptor(device, 'low').map((p) => `${p.code}:${p.severity}`)).toEqual(['device-max-packet-size0:refuse', 'device-no-configurations:refuse']);
    expect(validateDeviceDescriptor({ ...device, maxPacketSize0: 32, numConfigurations: 1 }, 'high')[0]).toMatchObject({ descriptor: 'device', offset: 7 });
  });

  it('puts device problems first when validating a configuration with its device', () => {
    const device = { ...parseDeviceDescriptor(ESP32S3_BUILTIN_DEVICE), maxPacketSize0: 7 };
    const problems = validateConfiguration(parseConfiguration(encodeConfiguration({ configurationValue: 0, functions: [vendor(0)] })), { device });
    expect(problems.map((p) => `${p.descriptor}:${p.code}`)).toEqual(['device:device-max-packet-size0', 'configuration:configuration-value-zero']);
  });

  it('assertEnumerable passes driver problems and warnings but throws on refusals, listing them all', () => {
    expect(() => assertEnumerable(parseConfiguration(encodeConfiguration({ functions: [vendor(0), vendor(2)] })))).not.toThrow();
    expect(() => assertEnumerable(parseConfiguration(encodeConfiguration({ functions: [{ interfaces: [{ number: 0, alternates: [{ interfaceClass: 3 }] }] }] })))).not.toThrow();

    const config = parseConfiguration(encodeConfiguration({
      functions: [{ association: { functionClass: 2, interfaceCount: 3 }, interfaces: cdc0.interfaces }, vendor(1, { endpoints: [{ address: 0x00, transferType: 'bulk', maxPacketSize: 64 }] })],
    }));
    const err = descriptorError(() => assertEnumerable(config));
    expect(err.fault).toBe('not-enumerable');
    expect(err.problems.map((p) => p.code)).toEqual(['duplicate-interface', 'iad-past-interfaces', 'endpoint-zero']);
    expect(err.offset).toBe(75);
    expect(err.message).toContain('a host would not enumerate this device (3 problems)');
    expect(err.message).toContain('configuration byte 9: IAD at byte 9 (interfaces 0..2) points past the interfaces');
    expect(refusals(validateConfiguration(config))).toEqual(err.problems);
  });
});
