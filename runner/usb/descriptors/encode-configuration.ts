/**
 * Builds configuration descriptor bytes from a {@link ConfigurationSpec}, in the canonical order
 * hosts and class specs expect: per function the IAD, then per interface and alternate setting the
 * interface descriptor, its class descriptors, and its endpoints each followed by their own extras.
 * Used by tests and by the simulator's devices.
 */
import { writeClassDescriptor } from './class-descriptors.ts';
import type { AlternateSettingSpec, ConfigurationSpec, EndpointSpec, FunctionSpec } from './configuration-spec.ts';
import { DescriptorWriter } from './descriptor-writer.ts';
import { DescriptorSize, DescriptorType, TRANSFER_TYPES } from './usb-constants.ts';
import { UsbDescriptorError } from './usb-descriptor-error.ts';

/**
 * Encodes `spec`. wTotalLength, bNumInterfaces (distinct interface numbers), bNumEndpoints and IAD
 * first/count are computed unless given.
 *
 * @throws UsbDescriptorError `value-out-of-range` (with the output offset) when a value does not fit
 *   its field, e.g. more than 65535 bytes in all or an endpoint without a transfer type.
 */
export function encodeConfiguration(spec: ConfigurationSpec): Uint8Array {
  const w = new DescriptorWriter();
  w.u8(DescriptorSize.configuration, 'bLength');
  w.u8(DescriptorType.configuration, 'bDescriptorType');
  const totalLengthAt = w.offset;
  w.u16(0, 'wTotalLength');
  const interfaceNumbers = new Set(spec.functions.flatMap((fn) => fn.interfaces.map((itf) => itf.number)));
  w.u8(spec.declared?.numInterfaces ?? interfaceNumbers.size, 'bNumInterfaces');
  w.u8(spec.configurationValue ?? 1, 'bConfigurationValue');
  w.u8(spec.stringIndex ?? 0, 'iConfiguration');
  // Bit 7 is reserved and set (USB 2.0 §9.6.3); bit 6 self-powered, bit 5 remote wakeup.
  w.u8(spec.attributes ?? (0x80 | (spec.selfPowered === true ? 0x40 : 0) | (spec.remoteWakeup === true ? 0x20 : 0)), 'bmAttributes');
  w.u8(Math.ceil((spec.maxPowerMa ?? 100) / 2), 'bMaxPower (maxPowerMa / 2)');
  for (const extra of spec.extra ?? []) w.append(extra.bytes);
  for (const fn of spec.functions) writeFunction(w, fn);
  w.patchU16(totalLengthAt, spec.declared?.totalLength ?? w.offset, 'wTotalLength');
  return w.toBytes();
}

function writeFunction(w: DescriptorWriter, fn: FunctionSpec): void {
  const association = fn.association;
  if (association !== undefined) {
    w.u8(DescriptorSize.interfaceAssociation, 'bLength');
    w.u8(DescriptorType.interfaceAssociation, 'bDescriptorType');
    w.u8(association.firstInterface ?? fn.interfaces[0]?.number ?? 0, 'bFirstInterface');
    w.u8(association.interfaceCount ?? fn.interfaces.length, 'bInterfaceCount');
    w.u8(association.functionClass, 'bFunctionClass');
    w.u8(association.functionSubClass ?? 0, 'bFunctionSubClass');
    w.u8(association.functionProtocol ?? 0, 'bFunctionProtocol');
    w.u8(association.stringIndex ?? 0, 'iFunction');
  }
  for (const itf of fn.interfaces) {
    itf.alternates.forEach((alternate, index) => writeAlternate(w, itf.number, index, alternate));
  }
}

function writeAlternate(w: DescriptorWriter, interfaceNumber: number, index: number, alternate: AlternateSettingSpec): void {
  const endpoints = alternate.endpoints ?? [];
  w.u8(DescriptorSize.interface, 'bLength');
  w.u8(DescriptorType.interface, 'bDescriptorType');
  w.u8(alternate.interfaceNumber ?? interfaceNumber, 'bInterfaceNumber');
  w.u8(alternate.alternateSetting ?? index, 'bAlternateSetting');
  w.u8(alternate.declared?.numEndpoints ?? endpoints.length, 'bNumEndpoints');
  w.u8(alternate.interfaceClass, 'bInterfaceClass');
  w.u8(alternate.interfaceSubClass ?? 0, 'bInterfaceSubClass');
  w.u8(alternate.interfaceProtocol ?? 0, 'bInterfaceProtocol');
  w.u8(alternate.stringIndex ?? 0, 'iInterface');
  for (const descriptor of alternate.classDescriptors ?? []) writeClassDescriptor(w, descriptor);
  for (const endpoint of endpoints) writeEndpoint(w, endpoint);
}

function writeEndpoint(w: DescriptorWriter, endpoint: EndpointSpec): void {
  const start = w.offset;
  w.u8(DescriptorSize.endpoint + (endpoint.tail?.length ?? 0), 'bLength');
  w.u8(DescriptorType.endpoint, 'bDescriptorType');
  w.u8(endpoint.address, 'bEndpointAddress');
  w.u8(endpoint.attributes ?? transferTypeBits(endpoint, start), 'bmAttributes');
  const additional = endpoint.additionalTransactions ?? 0;
  if (endpoint.maxPacketSize > 0x07ff || additional > 3) {
    throw new UsbDescriptorError('value-out-of-range', w.offset,
      `wMaxPacketSize: ${endpoint.maxPacketSize} bytes (at most 2047) with ${additional} additional transactions (at most 3) does not fit`);
  }
  w.u16(endpoint.maxPacketSize | (additional << 11), 'wMaxPacketSize');
  w.u8(endpoint.interval ?? 0, 'bInterval');
  if (endpoint.tail !== undefined) w.append(endpoint.tail);
  for (const extra of endpoint.extra ?? []) w.append(extra.bytes);
}

function transferTypeBits(endpoint: EndpointSpec, offset: number): number {
  const bits = endpoint.transferType === undefined ? -1 : TRANSFER_TYPES.indexOf(endpoint.transferType);
  if (bits < 0) {
    throw new UsbDescriptorError('value-out-of-range', offset, `endpoint 0x${endpoint.address.toString(16)} has neither attributes nor a transfer type`);
  }
  return bits;
}
