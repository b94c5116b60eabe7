import { describe, expect, it } from 'vitest';
import { encodeConfiguration } from '../../../runner/usb/descriptors/encode-configuration.ts';
import { builtinCdcDevice } from '../../../sim/usbd/builtin-cdc-device.ts';
import { presentBuiltinCdc, presentRuntimeDevice } from '../../../sim/usbd/presented-device.ts';
import { runtimeInterfaceSlices } from '../../../sim/usbd/runtime-interface-slices.ts';
import { cdcFunction, MAC, runtimeConfig, SERIAL, vendorFunction } from './usbd-fixture.ts';

describe('runtimeInterfaceSlices (what open_itf_cb gets at SET_CONFIGURATION)', () => {
  it('skips the built-in interfaces, starts an IAD function at its first interface and runs to the next function', () => {
    const config = runtimeConfig('cdc', [cdcFunction(2, 3), vendorFunction(4, 5)]).configurationDescriptor;
    // Built-in CDC: 75 bytes. Runtime CDC: IAD (8) at 75, then interfaces 2 and 3 up to 141; vendor interface 4: 23 bytes.
    expect(runtimeInterfaceSlices(config, 2)).toEqual([{ offset: 83, length: 58 }, { offset: 141, length: 23 }]);
    expect(config.length).toBe(164);
    expect(config[83 + 1]).toBe(0x04);
    expect(config[83 + 2]).toBe(2);
  });

  it('with BUILTIN_NONE every interface is a runtime one; alternate settings stay with their interface', () => {
    const config = encodeConfiguration({
      functions: [
        { interfaces: [{ number: 0, alternates: [{ interfaceClass: 0xff }, { interfaceClass: 0xff, endpoints: [{ address: 0x81, transferType: 'bulk', maxPacketSize: 64 }] }] }] },
        { interfaces: [{ number: 1, alternates: [{ interfaceClass: 0xff }] }] },
      ],
    });
    expect(runtimeInterfaceSlices(config, 0)).toEqual([{ offset: 9, length: 25 }, { offset: 34, length: 9 }]);
  });

  it('gives nothing for the built-in configuration alone', () => {
    expect(runtimeInterfaceSlices(builtinCdcDevice(MAC, 'v1.24.1').configurationDescriptor, 2)).toEqual([]);
  });
});

describe('presented devices', () => {
  const builtin = builtinCdcDevice(MAC, 'v1.24.1');

  it('resolves runtime strings by descriptor index, falling back to the built-in string, cut at 40 characters', () => {
    const device = presentRuntimeDevice(builtin, 'cdc', runtimeConfig('cdc', [vendorFunction(2, 3)], {
      strings: [null, 'Acme', null, null, null, 'x'.repeat(50)],
    }));
    expect([1, 2, 3, 4, 5, 6].map((index) => device.string(index))).toEqual(['Acme', 'Espressif Device', SERIAL, 'Board CDC', 'x'.repeat(40), null]);
    expect(device.identity).toEqual({ vid: 0x303a, pid: 0x4001, manufacturer: 'Acme', product: 'Espressif Device', serialNumber: SERIAL });
    expect([device.makesTty, device.builtinInterfaceCount, device.runtime]).toEqual([true, 2, true]);
  });

  it('sends the configuration up to its wTotalLength (bytes past it never reach the host)', () => {
    const config = runtimeConfig('none', [vendorFunction(0, 1)]);
    const padded = { ...config, configurationDescriptor: Uint8Array.from([...config.configurationDescriptor, 0xee, 0xee]) };
    const device = presentRuntimeDevice(builtin, 'none', padded);
    expect([...device.configurationDescriptor]).toEqual([...config.configurationDescriptor]);
    expect([device.makesTty, device.builtinInterfaceCount, device.configuration?.interfaces.length]).toEqual([false, 0, 1]);
  });

  it('presents the built-in CDC of the firmware version: v1.23 and older report serial 123456', () => {
    const device = presentBuiltinCdc(builtinCdcDevice(MAC, 'v1.23.0'));
    expect(device.identity.serialNumber).toBe('123456');
    expect(device.string(4)).toBe('Espressif CDC Device');
    expect([device.makesTty, device.runtime]).toEqual([true, false]);
  });
});
