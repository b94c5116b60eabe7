/**
 * What a report says about a device's USB side: identity, strings, and its functions → interfaces →
 * endpoints with class triples and names. Built from the parsed descriptors (no I/O here), so the
 * same summary comes from a physical board, the virtual lab, or bytes in a test.
 */
import type { UsbConfiguration, UsbInterface } from './descriptors/configuration-tree.ts';
import { hexByte } from './descriptors/descriptor-format.ts';
import type { UsbDeviceDescriptor } from './descriptors/device-descriptor.ts';
import type { EndpointDirection, TransferType } from './descriptors/usb-constants.ts';

export interface UsbEndpointSummary {
  /** bEndpointAddress (bit 7 = IN). */
  address: number;
  direction: EndpointDirection;
  transferType: TransferType;
  /** Bytes per transaction. */
  maxPacketSize: number;
  /** bInterval as sent. */
  interval: number;
}

export interface UsbInterfaceSummary {
  number: number;
  /** Class triple of alternate setting 0 (or the first one described). */
  interfaceClass: number;
  interfaceSubClass: number;
  interfaceProtocol: number;
  /** iInterface's text; null without one (or when the device would not give it). */
  name: string | null;
  /** How many alternate settings are described. */
  alternateSettings: number;
  /** Endpoints of that same setting. */
  endpoints: UsbEndpointSummary[];
}

export interface UsbFunctionSummary {
  /** From the IAD, or the single interface's triple when no IAD groups it. */
  functionClass: number;
  functionSubClass: number;
  functionProtocol: number;
  /** iFunction's text (IAD), else the interface's name. */
  name: string | null;
  /** True when an interface association descriptor groups these interfaces. */
  associated: boolean;
  interfaces: UsbInterfaceSummary[];
}

export interface UsbDeviceSummary {
  portPath: string;
  vendorId: number;
  productId: number;
  /** bcdUSB / bcdDevice (BCD: 0x0200 = 2.00). */
  usbVersion: number;
  deviceVersion: number;
  deviceClass: number;
  deviceSubClass: number;
  deviceProtocol: number;
  manufacturer: string | null;
  product: string | null;
  serialNumber: string | null;
  configuration: {
    value: number;
    name: string | null;
    maxPowerMa: number;
    selfPowered: boolean;
    remoteWakeup: boolean;
    interfaceCount: number;
  };
  functions: UsbFunctionSummary[];
}

/** Text of a string index: null for index 0 or a string the device did not give. */
export type UsbStringLookup = (index: number) => string | null;

/** The summary of a parsed device; `stringOf` gives the text of each string index referenced. */
export function summarizeUsbDevice(portPath: string, device: UsbDeviceDescriptor, config: UsbConfiguration, stringOf: UsbStringLookup): UsbDeviceSummary {
  const text = (index: number): string | null => (index === 0 ? null : stringOf(index));
  return {
    portPath,
    vendorId: device.vendorId,
    productId: device.productId,
    usbVersion: device.usbVersion,
    deviceVersion: device.deviceVersion,
    deviceClass: device.deviceClass,
    deviceSubClass: device.deviceSubClass,
    deviceProtocol: device.deviceProtocol,
    manufacturer: text(device.manufacturerStringIndex),
    product: text(device.productStringIndex),
    serialNumber: text(device.serialNumberStringIndex),
    configuration: {
      value: config.configurationValue,
      name: text(config.stringIndex),
      maxPowerMa: config.maxPowerMa,
      selfPowered: config.selfPowered,
      remoteWakeup: config.remoteWakeup,
      interfaceCount: config.interfaces.length,
    },
    functions: config.functions.map((fn) => {
      const interfaces = fn.interfaces.map((itf) => summarizeInterface(itf, text));
      const first = interfaces[0];
      if (fn.association !== undefined) {
        const iad = fn.association;
        return {
          functionClass: iad.functionClass, functionSubClass: iad.functionSubClass, functionProtocol: iad.functionProtocol,
          name: text(iad.stringIndex) ?? first?.name ?? null, associated: true, interfaces,
        };
      }
      return {
        functionClass: first?.interfaceClass ?? 0, functionSubClass: first?.interfaceSubClass ?? 0, functionProtocol: first?.interfaceProtocol ?? 0,
        name: first?.name ?? null, associated: false, interfaces,
      };
    }),
  };
}

/**
 * The summary as report lines:
 * `1-1.3 303a:4001 "Espressif Systems" "Espressif Device" serial "123456", USB 2.00, class ef/02/01`, then
 * the configuration, then one line per function, interface and endpoint, indented.
 */
export function formatUsbDeviceSummary(summary: UsbDeviceSummary): string[] {
  const quoted = (value: string | null): string => (value === null ? '-' : JSON.stringify(value));
  const config = summary.configuration;
  const lines = [
    `${summary.portPath} ${hex4(summary.vendorId)}:${hex4(summary.productId)} ${quoted(summary.manufacturer)} ${quoted(summary.product)} ` +
      `serial ${quoted(summary.serialNumber)}, USB ${bcd(summary.usbVersion)}, class ${triple(summary.deviceClass, summary.deviceSubClass, summary.deviceProtocol)}`,
    `configuration ${config.value}${config.name === null ? '' : ` ${quoted(config.name)}`}: ${config.maxPowerMa} mA, ` +
      `${config.selfPowered ? 'self' : 'bus'} powered${config.remoteWakeup ? ', remote wakeup' : ''}, ${config.interfaceCount} interface(s)`,
  ];
  for (const fn of summary.functions) {
    lines.push(`  function ${triple(fn.functionClass, fn.functionSubClass, fn.functionProtocol)}${fn.associated ? ' (IAD)' : ''} ${quoted(fn.name)}`);
    for (const itf of fn.interfaces) {
      const alternates = itf.alternateSettings > 1 ? `, ${itf.alternateSettings} alternate settings` : '';
      lines.push(`    interface ${itf.number} ${triple(itf.interfaceClass, itf.interfaceSubClass, itf.interfaceProtocol)} ${quoted(itf.name)}${alternates}`);
      for (const ep of itf.endpoints) {
        lines.push(`      ${hexByte(ep.address)} ${ep.transferType} ${ep.direction.toUpperCase()} ${ep.maxPacketSize} B${ep.transferType === 'interrupt' || ep.transferType === 'isochronous' ? `, interval ${ep.interval}` : ''}`);
      }
    }
  }
  return lines;
}

function summarizeInterface(itf: UsbInterface, text: (index: number) => string | null): UsbInterfaceSummary {
  const setting = itf.alternates.find((alternate) => alternate.alternateSetting === 0) ?? itf.alternates[0]!;
  return {
    number: itf.number,
    interfaceClass: setting.interfaceClass,
    interfaceSubClass: setting.interfaceSubClass,
    interfaceProtocol: setting.interfaceProtocol,
    name: text(setting.stringIndex),
    alternateSettings: itf.alternates.length,
    endpoints: setting.endpoints.map((ep) => ({
      address: ep.address, direction: ep.direction, transferType: ep.transferType, maxPacketSize: ep.maxPacketSize, interval: ep.interval,
    })),
  };
}

function triple(a: number, b: number, c: number): string {
  return [a, b, c].map((value) => value.toString(16).padStart(2, '0')).join('/');
}

function hex4(value: number): string {
  return value.toString(16).padStart(4, '0');
}

function bcd(value: number): string {
  return `${(value >> 8).toString(16)}.${(value & 0xff).toString(16).padStart(2, '0')}`;
}
