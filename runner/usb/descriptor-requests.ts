/**
 * GET_DESCRIPTOR as a host sends it at enumeration (USB 2.0 §9.4.3, Table 9-3 and 9-5): a standard
 * device-to-host request to the device, wValue = descriptor type << 8 | index, wIndex = the LANGID for
 * strings (0 otherwise), wLength = how many bytes the host takes.
 */
import { DescriptorSize, DescriptorType } from './descriptors/usb-constants.ts';
import type { UsbControlSetup } from './usb-control-device.ts';

/** bRequest GET_DESCRIPTOR (USB 2.0 Table 9-4). */
const GET_DESCRIPTOR = 6;

/**
 * wLength for string descriptors: the largest a descriptor can be (bLength is one byte), which is
 * what Linux asks for (`usb_string`), so no string is cut.
 */
export const STRING_REQUEST_LENGTH = 255;

/** The first read of a configuration: its 9 fixed bytes, for wTotalLength (then the whole tree is read). */
export const CONFIGURATION_HEADER_LENGTH = DescriptorSize.configuration;

/** What the rig reads: device, configuration, string. */
export type DescriptorKind = 'device' | 'configuration' | 'string';

const TYPE_CODES: Readonly<Record<DescriptorKind, number>> = {
  device: DescriptorType.device,
  configuration: DescriptorType.configuration,
  string: DescriptorType.string,
};

/** The setup of GET_DESCRIPTOR(`kind`, `index`); `languageId` goes in wIndex (strings only). */
export function getDescriptorSetup(kind: DescriptorKind, index = 0, languageId = 0): UsbControlSetup {
  return { requestType: 'standard', recipient: 'device', request: GET_DESCRIPTOR, value: (TYPE_CODES[kind] << 8) | index, index: languageId };
}

/** `GET_DESCRIPTOR(configuration 0, 9 bytes)`: how errors name a descriptor read. */
export function describeDescriptorRequest(kind: DescriptorKind, index: number, length: number): string {
  return `GET_DESCRIPTOR(${kind}${kind === 'device' ? '' : ` ${index}`}, ${length} bytes)`;
}
