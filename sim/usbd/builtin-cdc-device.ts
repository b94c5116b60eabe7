/**
 * The device MicroPython's TinyUSB integration presents on an ESP32-S2/S3 when no runtime device is
 * active: the built-in CDC-ACM REPL port (reference micropython-host-protocols.md §8.4, §10.1–10.2).
 * Its numbers are what `BUILTIN_CDC` / `BUILTIN_DEFAULT` report as `itf_max`, `ep_max` and `str_max`,
 * and its descriptors are what a runtime configuration that keeps the built-in driver starts with.
 */
import type { FunctionSpec } from '../../runner/usb/descriptors/configuration-spec.ts';
import { encodeConfiguration } from '../../runner/usb/descriptors/encode-configuration.ts';
import { encodeDeviceDescriptor } from '../../runner/usb/descriptors/device-descriptor.ts';
import { tinyUsbCdcIdentity, versionAtLeast } from '../board/usb-identity.ts';

/** The built-in CDC device of one board under one firmware version. */
export interface BuiltinCdcDevice {
  deviceDescriptor: Uint8Array;
  configurationDescriptor: Uint8Array;
  /** String descriptors by index (0, the language list, excluded: always English): 1–4. */
  strings: ReadonlyMap<number, string>;
  /** 1 + the highest built-in interface number. */
  itfMax: number;
  /** 1 + the highest built-in endpoint number (without the IN bit). */
  epMax: number;
  /** 1 + the highest built-in string index. */
  strMax: number;
}

/** CDC interface string index in the built-in configuration. */
const CDC_INTERFACE_STRING = 4;

/**
 * Built-in CDC of a board with MAC `mac` running MicroPython `firmwareVersion`: 303A:4001 class
 * EF/02/01, strings 1 `Espressif Systems`, 2 `Espressif Device`, 3 the serial number (`123456` up to
 * v1.23, MAC-derived from v1.24), 4 the CDC interface (`Board CDC` from v1.24, `Espressif CDC Device`
 * before); one bus-powered 250 mA configuration with IAD + CDC-ACM (notification 0x81, 8 bytes,
 * interval 16; data 0x02 OUT / 0x82 IN, 64 bytes at full speed).
 */
export function builtinCdcDevice(mac: Uint8Array, firmwareVersion: string): BuiltinCdcDevice {
  const identity = tinyUsbCdcIdentity(mac, firmwareVersion);
  const deviceDescriptor = encodeDeviceDescriptor({
    usbVersion: 0x0200,
    deviceClass: 0xef,
    deviceSubClass: 0x02,
    deviceProtocol: 0x01,
    maxPacketSize0: 64,
    vendorId: identity.vid,
    productId: identity.pid,
    deviceVersion: 0x0100,
    manufacturerStringIndex: 1,
    productStringIndex: 2,
    serialNumberStringIndex: 3,
    numConfigurations: 1,
  });
  const configurationDescriptor = encodeConfiguration({ maxPowerMa: 250, functions: [builtinCdcFunction()] });
  const strings = new Map<number, string>([
    [1, identity.manufacturer ?? ''],
    [2, identity.product ?? ''],
    [3, identity.serialNumber ?? ''],
    [CDC_INTERFACE_STRING, versionAtLeast(firmwareVersion, [1, 24, 0]) ? 'Board CDC' : 'Espressif CDC Device'],
  ]);
  return { deviceDescriptor, configurationDescriptor, strings, itfMax: 2, epMax: 3, strMax: 5 };
}

/**
 * The built-in CDC function (IAD + CDC-ACM interfaces 0 and 1) as an encoder spec: what a runtime
 * configuration that keeps the built-in driver begins with (micropython-lib copies `desc_cfg` of
 * `BUILTIN_DEFAULT` and appends to it).
 */
export function builtinCdcFunction(): FunctionSpec {
  return {
    association: { functionClass: 0x02, functionSubClass: 0x02, functionProtocol: 0x00 },
    interfaces: [
      {
        number: 0,
        alternates: [{
          interfaceClass: 0x02, interfaceSubClass: 0x02, interfaceProtocol: 0x00, stringIndex: CDC_INTERFACE_STRING,
          classDescriptors: [
            { kind: 'cdc-header', cdcVersion: 0x0120 },
            { kind: 'cdc-call-management', capabilities: 0x00, dataInterface: 1 },
            { kind: 'cdc-acm', capabilities: 0x06 },
            { kind: 'cdc-union', controlInterface: 0, subordinateInterfaces: [1] },
          ],
          endpoints: [{ address: 0x81, transferType: 'interrupt', maxPacketSize: 8, interval: 16 }],
        }],
      },
      {
        number: 1,
        alternates: [{
          interfaceClass: 0x0a,
          endpoints: [
            { address: 0x02, transferType: 'bulk', maxPacketSize: 64 },
            { address: 0x82, transferType: 'bulk', maxPacketSize: 64 },
          ],
        }],
      },
    ],
  };
}
