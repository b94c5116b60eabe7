/**
 * A board as a MicroPython ESP32-S3 presents itself with the built-in CDC kept and one runtime vendor
 * interface added (reference/micropython-host-protocols.md §8.4, §9.3): IAD + CDC-ACM on interfaces
 * 0–1 (0x81 interrupt, 0x02/0x82 bulk), a vendor interface 2 with bulk 0x03/0x83 that echoes what it
 * is sent, strings 1–5. Vendor request 0x01 stores its OUT data stage and returns it on IN; 0x02 IN
 * never answers (a firmware whose control_xfer_cb hangs); any other request stalls.
 */
import { encodeConfiguration } from '../../runner/usb/descriptors/encode-configuration.ts';
import { encodeDeviceDescriptor } from '../../runner/usb/descriptors/device-descriptor.ts';
import type { ConfigurationSpec } from '../../runner/usb/descriptors/configuration-spec.ts';
import { cdcAcmFunctionSpec } from '../usb/descriptors/reference-specs.ts';
import type { FakeControlAnswer, FakeUsbGadgetSpec } from './fake-usb-gadget.ts';

export const BOARD_VENDOR_INTERFACE = 2;
export const BOARD_BULK_OUT = 0x03;
export const BOARD_BULK_IN = 0x83;
/** Vendor request that echoes: OUT stores the data stage, IN returns it. */
export const ECHO_REQUEST = 0x01;
/** Vendor request whose IN never completes. */
export const HANGING_REQUEST = 0x02;

export const BOARD_DEVICE_DESCRIPTOR = encodeDeviceDescriptor({
  vendorId: 0x303a, productId: 0x4001, deviceClass: 0xef, deviceSubClass: 0x02, deviceProtocol: 0x01,
  manufacturerStringIndex: 1, productStringIndex: 2, serialNumberStringIndex: 3,
});

export const BOARD_CONFIGURATION_SPEC: ConfigurationSpec = {
  maxPowerMa: 250,
  functions: [
    cdcAcmFunctionSpec({ itf: 0, stringIndex: 4, notify: 0x81, out: 0x02, in: 0x82, packetSize: 64 }),
    {
      interfaces: [{
        number: BOARD_VENDOR_INTERFACE,
        alternates: [{
          interfaceClass: 0xff, stringIndex: 5,
          endpoints: [
            { address: BOARD_BULK_OUT, transferType: 'bulk', maxPacketSize: 64 },
            { address: BOARD_BULK_IN, transferType: 'bulk', maxPacketSize: 64 },
          ],
        }],
      }],
    },
  ],
};

export const BOARD_STRINGS: Record<number, string> = {
  1: 'Espressif Systems', 2: 'Espressif Device', 3: 'f412fa4b5c3d', 4: 'Board CDC', 5: 'Loopback',
};

/** The board's gadget spec; `overrides` replace parts (malformed descriptors, no strings, ...). */
export function boardGadgetSpec(overrides: Partial<FakeUsbGadgetSpec> = {}): FakeUsbGadgetSpec {
  let echo = new Uint8Array(0);
  return {
    device: BOARD_DEVICE_DESCRIPTOR,
    configuration: encodeConfiguration(BOARD_CONFIGURATION_SPEC),
    strings: BOARD_STRINGS,
    onControl: (direction, setup, data): FakeControlAnswer | Promise<FakeControlAnswer> | undefined => {
      if (setup.requestType !== 'vendor') return undefined;
      if (setup.request === ECHO_REQUEST) {
        if (direction === 'in') return echo.slice();
        echo = (data ?? new Uint8Array(0)).slice();
        return 'ok';
      }
      if (setup.request === HANGING_REQUEST && direction === 'in') return new Promise<FakeControlAnswer>(() => {});
      return undefined;
    },
    ...overrides,
  };
}
