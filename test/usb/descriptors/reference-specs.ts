/**
 * The layouts of reference-layouts.ts as encoder specs: encoding them must give the hand-written bytes.
 */
import type { FunctionSpec, InterfaceSpec } from '../../../runner/usb/descriptors/configuration-spec.ts';
import { BOOT_KEYBOARD_REPORT_LENGTH } from './reference-layouts.ts';

export function cdcAcmFunctionSpec(o: {
  itf: number; stringIndex: number; notify: number; out: number; in: number; packetSize: number; acmCapabilities?: number;
}): FunctionSpec {
  return {
    association: { functionClass: 0x02, functionSubClass: 0x02 },
    interfaces: [
      {
        number: o.itf,
        alternates: [{
          interfaceClass: 0x02, interfaceSubClass: 0x02, stringIndex: o.stringIndex,
          classDescriptors: [
            { kind: 'cdc-header', cdcVersion: 0x0120 },
            { kind: 'cdc-call-management', capabilities: 0, dataInterface: o.itf + 1 },
            { kind: 'cdc-acm', capabilities: o.acmCapabilities ?? 0x06 },
            { kind: 'cdc-union', controlInterface: o.itf, subordinateInterfaces: [o.itf + 1] },
          ],
          endpoints: [{ address: o.notify, transferType: 'interrupt', maxPacketSize: 8, interval: 16 }],
        }],
      },
      {
        number: o.itf + 1,
        alternates: [{
          interfaceClass: 0x0a,
          endpoints: [
            { address: o.out, transferType: 'bulk', maxPacketSize: o.packetSize },
            { address: o.in, transferType: 'bulk', maxPacketSize: o.packetSize },
          ],
        }],
      },
    ],
  };
}

export function hidKeyboardInterfaceSpec(itf: number, endpoint = 0x81): InterfaceSpec {
  return {
    number: itf,
    alternates: [{
      interfaceClass: 0x03, interfaceSubClass: 0x01, interfaceProtocol: 0x01, stringIndex: 5,
      classDescriptors: [{ kind: 'hid', hidVersion: 0x0111, countryCode: 0, subordinateDescriptors: [{ descriptorType: 0x22, length: BOOT_KEYBOARD_REPORT_LENGTH }] }],
      endpoints: [{ address: endpoint, transferType: 'interrupt', maxPacketSize: 8, interval: 10 }],
    }],
  };
}

export function vendorBulkInterfaceSpec(itf: number, inAddress: number, outAddress: number, packetSize = 64): InterfaceSpec {
  return {
    number: itf,
    alternates: [{
      interfaceClass: 0xff,
      endpoints: [
        { address: inAddress, transferType: 'bulk', maxPacketSize: packetSize },
        { address: outAddress, transferType: 'bulk', maxPacketSize: packetSize },
      ],
    }],
  };
}
