/**
 * What the simulated USB host does with a device's descriptors at enumeration: reads the device
 * descriptor, the configuration and the identity strings, and checks them with the rig's own rules of
 * what a host refuses (runner/usb/descriptors), so a device the rig would call "not enumerable" is
 * not enumerated by the virtual lab either.
 */
import type { UsbConfiguration } from '../../runner/usb/descriptors/configuration-tree.ts';
import { parseDeviceDescriptor, type UsbDeviceDescriptor } from '../../runner/usb/descriptors/device-descriptor.ts';
import { assertEnumerable } from '../../runner/usb/descriptors/enumerability.ts';
import { parseConfiguration } from '../../runner/usb/descriptors/parse-configuration.ts';
import { UsbDescriptorError } from '../../runner/usb/descriptors/usb-descriptor-error.ts';
import type { UsbDeviceIdentity } from '../board/usb-identity.ts';
import type { UsbDescriptorSet, UsbSpeed } from './usb-port-device.ts';

/** The host accepted the device: what it read. */
export interface AcceptedDevice {
  ok: true;
  device: UsbDeviceDescriptor;
  configuration: UsbConfiguration;
  /** VID/PID and the manufacturer/product/serial strings the device descriptor points at. */
  identity: UsbDeviceIdentity;
}

/** The host refused the device: why, for people (`reason`) and for code (`codes`). */
export interface RefusedDevice {
  ok: false;
  reason: string;
  codes: string[];
}

/** Reads and checks `descriptors` as a host at `speed` does; never throws for bad descriptors. */
export function enumerateDescriptors(descriptors: UsbDescriptorSet, speed: UsbSpeed): AcceptedDevice | RefusedDevice {
  let device: UsbDeviceDescriptor;
  try {
    device = parseDeviceDescriptor(descriptors.device);
  } catch (err: unknown) {
    return refused('device descriptor', err);
  }
  let configuration: UsbConfiguration;
  try {
    configuration = parseConfiguration(descriptors.configuration);
  } catch (err: unknown) {
    return refused('configuration descriptor', err);
  }
  try {
    assertEnumerable(configuration, { device, speed });
  } catch (err: unknown) {
    return refused('descriptors', err);
  }
  return { ok: true, device, configuration, identity: identityOf(device, (index) => descriptors.string(index)) };
}

/** The identity a host lists for a device: VID/PID and the strings its descriptor names (index 0 = none). */
export function identityOf(device: Pick<UsbDeviceDescriptor, 'vendorId' | 'productId' | 'manufacturerStringIndex' | 'productStringIndex' | 'serialNumberStringIndex'>,
  string: (index: number) => string | null): UsbDeviceIdentity {
  const read = (index: number): string | null => (index === 0 ? null : string(index));
  return {
    vid: device.vendorId,
    pid: device.productId,
    manufacturer: read(device.manufacturerStringIndex),
    product: read(device.productStringIndex),
    serialNumber: read(device.serialNumberStringIndex),
  };
}

function refused(what: string, err: unknown): RefusedDevice {
  if (!(err instanceof UsbDescriptorError)) throw err;
  const codes = err.fault === 'not-enumerable' ? err.problems.map((problem) => problem.code) : [err.fault];
  return { ok: false, reason: `${what}: ${err.message}`, codes };
}
