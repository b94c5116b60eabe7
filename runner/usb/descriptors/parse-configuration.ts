/**
 * Parses a configuration descriptor with its whole tree, as GET_DESCRIPTOR(CONFIGURATION) returns it
 * (USB 2.0 §9.4.3: the configuration descriptor followed by all interface, endpoint, class- and
 * vendor-specific descriptors, wTotalLength bytes in all). Structural faults throw; rule violations a
 * host might still live with are left to {@link validateConfiguration}.
 */
import { decodeClassDescriptor } from './class-descriptors.ts';
import type { UsbAlternateSetting, UsbConfiguration, UsbEndpoint, UsbFunction, UsbInterface, UsbInterfaceAssociation } from './configuration-tree.ts';
import { hexByte } from './descriptor-format.ts';
import { readU16, requireLength, walkDescriptors, type UsbRawDescriptor } from './descriptor-walk.ts';
import {
  DescriptorSize,
  DescriptorType,
  ENDPOINT_DIRECTION_IN,
  ENDPOINT_NUMBER_MASK,
  STANDALONE_DESCRIPTOR_TYPES,
  TRANSFER_TYPES,
  UsbClass,
} from './usb-constants.ts';
import { UsbDescriptorError } from './usb-descriptor-error.ts';

export interface ParseConfigurationOptions {
  /**
   * Accept bytes past wTotalLength (a buffer read with a larger wLength) and ignore them.
   * Default false: the bytes must be exactly wTotalLength long, as a device's own buffer should be.
   */
  allowTrailingBytes?: boolean;
}

/**
 * Parses `data` into a {@link UsbConfiguration}. Bytes past the fixed fields of configuration,
 * interface and IAD descriptors are ignored, as hosts do (an endpoint's keep as its `tail`).
 *
 * @throws UsbDescriptorError with the byte offset: `wrong-type` (not a configuration descriptor),
 *   `zero-length`/`too-short`/`past-end`/`truncated` (bLength faults), `total-length-mismatch`
 *   (wTotalLength disagrees with the bytes), `misplaced` (an endpoint before any interface, a
 *   device/configuration/string descriptor inside the tree).
 */
export function parseConfiguration(data: Uint8Array, options: ParseConfigurationOptions = {}): UsbConfiguration {
  const headerLength = checkHeader(data);
  const totalLength = readU16(data, 2);
  checkTotalLength(data, headerLength, totalLength, options.allowTrailingBytes ?? false);

  const attributes = data[7]!;
  const configuration: UsbConfiguration = {
    configurationValue: data[5]!,
    stringIndex: data[6]!,
    attributes,
    selfPowered: (attributes & 0x40) !== 0,
    remoteWakeup: (attributes & 0x20) !== 0,
    maxPowerMa: data[8]! * 2,
    declared: { totalLength, numInterfaces: data[4]! },
    extra: [],
    functions: [],
    interfaces: [],
    associations: [],
  };

  const alternates = readBody(data, headerLength, totalLength, configuration);
  configuration.interfaces = groupInterfaces(alternates);
  configuration.functions = groupFunctions(configuration.interfaces, configuration.associations);
  return configuration;
}

function checkHeader(data: Uint8Array): number {
  if (data.length < 2) {
    throw new UsbDescriptorError('truncated', 0, `${data.length} byte(s), a configuration descriptor has ${DescriptorSize.configuration}`, { bytes: data });
  }
  if (data[1] !== DescriptorType.configuration) {
    throw new UsbDescriptorError('wrong-type', 1,
      `descriptor type ${hexByte(data[1]!)} where a configuration descriptor (0x02) is required`, { bytes: data });
  }
  const length = data[0]!;
  if (length === 0) throw new UsbDescriptorError('zero-length', 0, 'configuration descriptor has bLength 0', { bytes: data });
  if (length < DescriptorSize.configuration) {
    throw new UsbDescriptorError('too-short', 0,
      `configuration descriptor has bLength ${length}, its fields need ${DescriptorSize.configuration}`, { bytes: data });
  }
  if (data.length < length) {
    throw new UsbDescriptorError('truncated', data.length, `configuration descriptor ends after ${data.length} of ${length} bytes`, { bytes: data });
  }
  return length;
}

function checkTotalLength(data: Uint8Array, headerLength: number, totalLength: number, allowTrailing: boolean): void {
  if (totalLength < headerLength) {
    throw new UsbDescriptorError('total-length-mismatch', 2,
      `wTotalLength ${totalLength} is shorter than the configuration descriptor itself (${headerLength})`, { bytes: data });
  }
  if (data.length < totalLength) {
    throw new UsbDescriptorError('total-length-mismatch', 2,
      `wTotalLength ${totalLength} but only ${data.length} bytes given: the configuration is truncated`, { bytes: data });
  }
  if (data.length > totalLength && !allowTrailing) {
    throw new UsbDescriptorError('total-length-mismatch', totalLength,
      `wTotalLength ${totalLength} but ${data.length} bytes given: ${data.length - totalLength} byte(s) lie outside the configuration`, { bytes: data });
  }
}

/**
 * Walks the descriptors after the configuration descriptor. Placement follows USB 2.0 §9.5 and what
 * hosts do: class descriptors belong to the interface descriptor before them; anything after an
 * endpoint belongs to that endpoint, except HID and CS_INTERFACE descriptors, which are always the
 * interface's (some HID devices put theirs after the first endpoint, and hosts accept it).
 */
function readBody(data: Uint8Array, start: number, totalLength: number, configuration: UsbConfiguration): UsbAlternateSetting[] {
  const alternates: UsbAlternateSetting[] = [];
  let alternate: UsbAlternateSetting | undefined;
  let endpoint: UsbEndpoint | undefined;
  for (const raw of walkDescriptors(data, start, totalLength, `wTotalLength (${totalLength})`)) {
    const standalone = STANDALONE_DESCRIPTOR_TYPES.get(raw.descriptorType);
    if (standalone !== undefined) {
      throw new UsbDescriptorError('misplaced', raw.offset, `a ${standalone} descriptor cannot appear inside a configuration`, { bytes: data });
    }
    switch (raw.descriptorType) {
      case DescriptorType.interface:
        requireLength(raw, DescriptorSize.interface, 'interface descriptor', data);
        alternate = readAlternate(raw);
        alternates.push(alternate);
        endpoint = undefined;
        break;
      case DescriptorType.endpoint:
        if (alternate === undefined) {
          throw new UsbDescriptorError('misplaced', raw.offset, 'endpoint descriptor before any interface descriptor', { bytes: data });
        }
        requireLength(raw, DescriptorSize.endpoint, 'endpoint descriptor', data);
        endpoint = readEndpoint(raw);
        alternate.endpoints.push(endpoint);
        break;
      case DescriptorType.interfaceAssociation:
        requireLength(raw, DescriptorSize.interfaceAssociation, 'interface association descriptor', data);
        configuration.associations.push(readAssociation(raw));
        alternate = undefined;
        endpoint = undefined;
        break;
      default:
        if (alternate === undefined) configuration.extra.push(raw);
        else if (endpoint !== undefined && !isInterfaceLevel(raw, alternate)) endpoint.extra.push(raw);
        else alternate.classDescriptors.push(decodeClassDescriptor(raw, alternate.interfaceClass));
    }
  }
  return alternates;
}

function isInterfaceLevel(raw: UsbRawDescriptor, alternate: UsbAlternateSetting): boolean {
  return raw.descriptorType === DescriptorType.classSpecificInterface
    || (raw.descriptorType === DescriptorType.hid && alternate.interfaceClass === UsbClass.hid);
}

function readAlternate(raw: UsbRawDescriptor): UsbAlternateSetting {
  const b = raw.bytes;
  return {
    offset: raw.offset,
    interfaceNumber: b[2]!,
    alternateSetting: b[3]!,
    interfaceClass: b[5]!,
    interfaceSubClass: b[6]!,
    interfaceProtocol: b[7]!,
    stringIndex: b[8]!,
    declared: { numEndpoints: b[4]! },
    classDescriptors: [],
    endpoints: [],
  };
}

function readEndpoint(raw: UsbRawDescriptor): UsbEndpoint {
  const b = raw.bytes;
  const address = b[2]!;
  const attributes = b[3]!;
  const wMaxPacketSize = readU16(b, 4);
  return {
    offset: raw.offset,
    address,
    number: address & ENDPOINT_NUMBER_MASK,
    direction: (address & ENDPOINT_DIRECTION_IN) !== 0 ? 'in' : 'out',
    attributes,
    transferType: TRANSFER_TYPES[attributes & 0x03]!,
    maxPacketSize: wMaxPacketSize & 0x07ff,
    additionalTransactions: (wMaxPacketSize >> 11) & 0x03,
    interval: b[6]!,
    tail: b.slice(DescriptorSize.endpoint),
    extra: [],
  };
}

function readAssociation(raw: UsbRawDescriptor): UsbInterfaceAssociation {
  const b = raw.bytes;
  return {
    offset: raw.offset,
    firstInterface: b[2]!,
    interfaceCount: b[3]!,
    functionClass: b[4]!,
    functionSubClass: b[5]!,
    functionProtocol: b[6]!,
    stringIndex: b[7]!,
  };
}

function groupInterfaces(alternates: readonly UsbAlternateSetting[]): UsbInterface[] {
  const byNumber = new Map<number, UsbInterface>();
  for (const alternate of alternates) {
    let itf = byNumber.get(alternate.interfaceNumber);
    if (itf === undefined) {
      itf = { number: alternate.interfaceNumber, alternates: [] };
      byNumber.set(itf.number, itf);
    }
    itf.alternates.push(alternate);
  }
  return [...byNumber.values()];
}

/**
 * Each IAD claims the existing interfaces in [first, first + count) not claimed by an earlier IAD
 * (overlaps are a validation problem); every unclaimed interface is a function of its own. Functions
 * are ordered by where they start in the bytes.
 */
function groupFunctions(interfaces: readonly UsbInterface[], associations: readonly UsbInterfaceAssociation[]): UsbFunction[] {
  const claimed = new Set<number>();
  const located: { start: number; fn: UsbFunction }[] = [];
  for (const association of associations) {
    const members = interfaces.filter((itf) =>
      itf.number >= association.firstInterface && itf.number < association.firstInterface + association.interfaceCount && !claimed.has(itf.number));
    for (const itf of members) claimed.add(itf.number);
    located.push({ start: association.offset, fn: { association, interfaces: members } });
  }
  for (const itf of interfaces) {
    if (!claimed.has(itf.number)) located.push({ start: itf.alternates[0]!.offset, fn: { interfaces: [itf] } });
  }
  return located.sort((a, b) => a.start - b.start).map((entry) => entry.fn);
}
