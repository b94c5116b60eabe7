/**
 * Code values of USB 2.0 chapter 9 and the class specifications this parser reads. Sources: USB 2.0
 * §9.4 Table 9-5 (descriptor types), §9.6.6 Table 9-13 (endpoint bmAttributes); Interface Association
 * Descriptor ECN (type 0x0B); HID 1.11 §7.1 (0x21–0x23); CDC 1.2 §5.2.3 Tables 12–13 (CS_INTERFACE,
 * functional descriptor subtypes); usb.org defined class codes (base classes).
 */

/** bDescriptorType values. */
export const DescriptorType = {
  device: 0x01,
  configuration: 0x02,
  string: 0x03,
  interface: 0x04,
  endpoint: 0x05,
  deviceQualifier: 0x06,
  otherSpeedConfiguration: 0x07,
  interfacePower: 0x08,
  otg: 0x09,
  debug: 0x0a,
  interfaceAssociation: 0x0b,
  bos: 0x0f,
  hid: 0x21,
  hidReport: 0x22,
  hidPhysical: 0x23,
  classSpecificInterface: 0x24,
  classSpecificEndpoint: 0x25,
} as const;

/** Descriptor types a host only ever asks for on their own; inside a configuration they are misplaced. */
export const STANDALONE_DESCRIPTOR_TYPES: ReadonlyMap<number, string> = new Map([
  [DescriptorType.device, 'device'],
  [DescriptorType.configuration, 'configuration'],
  [DescriptorType.string, 'string'],
  [DescriptorType.deviceQualifier, 'device qualifier'],
  [DescriptorType.otherSpeedConfiguration, 'other-speed configuration'],
  [DescriptorType.bos, 'BOS'],
]);

/** Sizes of the fixed fields (the smallest valid bLength). */
export const DescriptorSize = {
  device: 18,
  configuration: 9,
  interface: 9,
  endpoint: 7,
  interfaceAssociation: 8,
  /** HID descriptor without its per-class-descriptor entries (HID 1.11 §6.2.1). */
  hidFixed: 6,
} as const;

/** Base class codes that matter here (bDeviceClass, bInterfaceClass, bFunctionClass). */
export const UsbClass = {
  perInterface: 0x00,
  audio: 0x01,
  cdc: 0x02,
  hid: 0x03,
  massStorage: 0x08,
  hub: 0x09,
  cdcData: 0x0a,
  /** Miscellaneous; with subclass 0x02 / protocol 0x01 it marks a device that uses IADs. */
  miscellaneous: 0xef,
  vendorSpecific: 0xff,
} as const;

/** CDC communication interface subclass: Abstract Control Model (a virtual serial port). */
export const CDC_SUBCLASS_ACM = 0x02;

/** CDC functional descriptor subtypes (bDescriptorSubtype of a CS_INTERFACE descriptor). */
export const CdcSubtype = {
  header: 0x00,
  callManagement: 0x01,
  abstractControlManagement: 0x02,
  union: 0x06,
} as const;

/** Transfer type, bmAttributes bits 1..0 of an endpoint descriptor. */
export type TransferType = 'control' | 'isochronous' | 'bulk' | 'interrupt';
/** Indexed by bmAttributes & 0x03. */
export const TRANSFER_TYPES: readonly TransferType[] = ['control', 'isochronous', 'bulk', 'interrupt'];

/** Endpoint direction from bEndpointAddress bit 7 (ignored by the spec for control endpoints). */
export type EndpointDirection = 'in' | 'out';
export const ENDPOINT_DIRECTION_IN = 0x80;
export const ENDPOINT_NUMBER_MASK = 0x0f;

/** Bus speed the rules of USB 2.0 chapter 5 depend on (packet sizes, intervals). */
export type UsbSpeed = 'low' | 'full' | 'high';

/** US English, the language MicroPython and most firmware report in string descriptor 0. */
export const LANGID_EN_US = 0x0409;
