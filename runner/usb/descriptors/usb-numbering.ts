/**
 * Numbering facts of a device: which interface numbers, endpoint addresses and string indexes it
 * uses, and the next free ones in MicroPython's terms (`itf_max`, `ep_max`, `str_max` of
 * `machine.USBDevice.BUILTIN_*`, reference/micropython-host-protocols.md §8.3, §9.3), which runtime
 * interfaces added beside a built-in driver must start from.
 */
import type { UsbConfiguration, UsbEndpoint } from './configuration-tree.ts';
import type { UsbDeviceDescriptor } from './device-descriptor.ts';

/** One endpoint with the interface setting it belongs to. */
export interface LocatedEndpoint {
  interfaceNumber: number;
  alternateSetting: number;
  endpoint: UsbEndpoint;
}

export interface UsbNumbering {
  /** Interface numbers in use, ascending. */
  interfaceNumbers: number[];
  /** Endpoint addresses in use in any setting, ascending (0x02 before 0x81). */
  endpointAddresses: number[];
  /** Non-zero string indexes referenced by the device, configuration, IADs and interfaces, ascending. */
  stringIndexes: number[];
  /** 1 + highest interface number (0 without interfaces) = the next free interface number. */
  itfMax: number;
  /** 1 + highest endpoint number, direction bit ignored (0 without endpoints). */
  epMax: number;
  /** 1 + highest string index, at least 1: index 0 is the LANGID list, never a string. */
  strMax: number;
}

/** Every endpoint of every interface setting, in descriptor order. */
export function listEndpoints(config: UsbConfiguration): LocatedEndpoint[] {
  return config.interfaces
    .flatMap((itf) => itf.alternates)
    .sort((a, b) => a.offset - b.offset)
    .flatMap((alternate) => alternate.endpoints.map((endpoint) => ({
      interfaceNumber: alternate.interfaceNumber,
      alternateSetting: alternate.alternateSetting,
      endpoint,
    })));
}

/** The numbering facts of `config`, with the device's string indexes when `device` is given. */
export function usbNumbering(config: UsbConfiguration, device?: UsbDeviceDescriptor): UsbNumbering {
  const interfaceNumbers = ascending(config.interfaces.map((itf) => itf.number));
  const endpoints = listEndpoints(config).map((located) => located.endpoint);
  const endpointAddresses = ascending(endpoints.map((endpoint) => endpoint.address));
  const strings = [
    config.stringIndex,
    ...config.associations.map((iad) => iad.stringIndex),
    ...config.interfaces.flatMap((itf) => itf.alternates.map((alternate) => alternate.stringIndex)),
  ];
  if (device !== undefined) strings.push(device.manufacturerStringIndex, device.productStringIndex, device.serialNumberStringIndex);
  const stringIndexes = ascending(strings.filter((index) => index !== 0));
  return {
    interfaceNumbers,
    endpointAddresses,
    stringIndexes,
    itfMax: nextAfter(interfaceNumbers),
    epMax: nextAfter(endpoints.map((endpoint) => endpoint.number)),
    strMax: Math.max(1, nextAfter(stringIndexes)),
  };
}

function ascending(values: readonly number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

function nextAfter(values: readonly number[]): number {
  return values.length === 0 ? 0 : Math.max(...values) + 1;
}
