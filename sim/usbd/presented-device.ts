/**
 * What a native-USB board's TinyUSB stack puts on the bus for one `tud_connect()`: the built-in CDC
 * alone, or a runtime device (`machine.USBDevice.config()`) with its descriptors exactly as Python
 * gave them and its strings resolved as MicroPython does (reference micropython-host-protocols.md
 * §8.2–8.4): a runtime entry wins, `None` falls back to the built-in string of that index.
 */
import type { UsbConfiguration } from '../../runner/usb/descriptors/configuration-tree.ts';
import { parseConfiguration } from '../../runner/usb/descriptors/parse-configuration.ts';
import type { UsbDeviceIdentity } from '../board/usb-identity.ts';
import { identityOf } from '../usb/host-enumeration.ts';
import { hasAcmControl } from '../usb/kernel-drivers.ts';
import type { BuiltinDriver, RuntimeUsbConfig } from './board-usb-port.ts';
import type { BuiltinCdcDevice } from './builtin-cdc-device.ts';

/**
 * Longest string descriptor text MicroPython sends (`MICROPY_HW_USB_DESC_STR_MAX`, §8.4); longer
 * strings are cut.
 */
export const MAX_STRING_CHARS = 40;

/** One presentation's descriptors and what the stack knows about them. */
export interface PresentedDevice {
  /** The device descriptor as given. */
  deviceDescriptor: Uint8Array;
  /** The configuration as GET_DESCRIPTOR sends it: the bytes given, up to their wTotalLength. */
  configurationDescriptor: Uint8Array;
  /** String `index` (1…255) as text, or null when there is none (the stack stalls). */
  string(index: number): string | null;
  /** Whether the built-in CDC driver runs (and answers its interfaces' requests). */
  builtinCdc: boolean;
  /** Interfaces below this number belong to the built-in driver: `itf_max`, 0 with `BUILTIN_NONE`. */
  builtinInterfaceCount: number;
  /** Whether Python's runtime callbacks are behind the interfaces from `builtinInterfaceCount` on. */
  runtime: boolean;
  /** The configuration as parsed, or null when it does not parse (a host refuses such a device). */
  configuration: UsbConfiguration | null;
  /** VID/PID and strings as a host would list them (zeros where the device descriptor is too short). */
  identity: UsbDeviceIdentity;
  /** A CDC-ACM function is present, so the host makes a tty. */
  makesTty: boolean;
}

/** The built-in CDC alone (`mp_usbd_init` without a runtime device). */
export function presentBuiltinCdc(builtin: BuiltinCdcDevice): PresentedDevice {
  return present(builtin.deviceDescriptor, builtin.configurationDescriptor, (index) => builtin.strings.get(index) ?? null, {
    builtinCdc: true,
    builtinInterfaceCount: builtin.itfMax,
    runtime: false,
  });
}

/** A runtime device keeping `driver` (`BUILTIN_DEFAULT`/`BUILTIN_CDC` = `cdc`, or `none`). */
export function presentRuntimeDevice(builtin: BuiltinCdcDevice, driver: BuiltinDriver, runtime: RuntimeUsbConfig): PresentedDevice {
  const strings = runtime.strings;
  const string = (index: number): string | null => {
    const own = index >= 1 ? strings[index] : undefined;
    const text = typeof own === 'string' ? own : (builtin.strings.get(index) ?? null);
    return text === null ? null : text.slice(0, MAX_STRING_CHARS);
  };
  return present(runtime.deviceDescriptor.slice(), asSent(runtime.configurationDescriptor), string, {
    builtinCdc: driver === 'cdc',
    builtinInterfaceCount: driver === 'cdc' ? builtin.itfMax : 0,
    runtime: true,
  });
}

function present(deviceDescriptor: Uint8Array, configurationDescriptor: Uint8Array, string: (index: number) => string | null,
  driver: Pick<PresentedDevice, 'builtinCdc' | 'builtinInterfaceCount' | 'runtime'>): PresentedDevice {
  const configuration = parseOrNull(configurationDescriptor);
  const byte = (offset: number): number => deviceDescriptor[offset] ?? 0;
  const identity = identityOf({
    vendorId: byte(8) | (byte(9) << 8),
    productId: byte(10) | (byte(11) << 8),
    manufacturerStringIndex: byte(14),
    productStringIndex: byte(15),
    serialNumberStringIndex: byte(16),
  }, string);
  return {
    deviceDescriptor,
    configurationDescriptor,
    string,
    ...driver,
    configuration,
    identity,
    makesTty: configuration !== null && hasAcmControl(configuration),
  };
}

/**
 * TinyUSB answers GET_DESCRIPTOR(CONFIGURATION) with wTotalLength bytes from the buffer: bytes past
 * wTotalLength never reach the host, and a buffer shorter than wTotalLength shows as a short read.
 */
function asSent(configuration: Uint8Array): Uint8Array {
  if (configuration.length < 4) return configuration.slice();
  const totalLength = configuration[2]! | (configuration[3]! << 8);
  return configuration.slice(0, Math.min(totalLength, configuration.length));
}

function parseOrNull(bytes: Uint8Array): UsbConfiguration | null {
  try {
    return parseConfiguration(bytes);
  } catch {
    return null;
  }
}
