/**
 * The parsed shape of a configuration descriptor and everything under it: configuration → functions
 * (IAD groups, or one interface each) → interfaces → alternate settings → endpoints, with class
 * descriptors where they belong. Every node keeps the byte offset it came from, so a problem can be
 * pointed at in a dump. Counts and lengths the descriptors *claim* live under `declared`; the
 * structure holds what is actually there.
 */
import type { UsbClassDescriptor } from './class-descriptors.ts';
import type { UsbRawDescriptor } from './descriptor-walk.ts';
import type { EndpointDirection, TransferType } from './usb-constants.ts';

/** An endpoint descriptor (USB 2.0 §9.6.6). */
export interface UsbEndpoint {
  offset: number;
  /** bEndpointAddress as sent: number in bits 3..0, IN when bit 7 is set. */
  address: number;
  /** Endpoint number, bits 3..0. */
  number: number;
  direction: EndpointDirection;
  /** bmAttributes as sent (iso synchronisation/usage bits included). */
  attributes: number;
  transferType: TransferType;
  /** wMaxPacketSize bits 10..0, bytes per transaction. */
  maxPacketSize: number;
  /** wMaxPacketSize bits 12..11: extra transactions per microframe (high-speed periodic endpoints). */
  additionalTransactions: number;
  /** bInterval as sent; its unit depends on speed and transfer type. */
  interval: number;
  /** Bytes past the 7 standard ones (bRefresh, bSynchAddress of USB Audio 1.0 endpoints). */
  tail: Uint8Array;
  /** Descriptors following the endpoint before the next endpoint/interface (CS_ENDPOINT, companions). */
  extra: UsbRawDescriptor[];
}

/** One alternate setting of an interface: an interface descriptor and what follows it. */
export interface UsbAlternateSetting {
  offset: number;
  interfaceNumber: number;
  alternateSetting: number;
  interfaceClass: number;
  interfaceSubClass: number;
  interfaceProtocol: number;
  /** iInterface; 0 = no string. */
  stringIndex: number;
  /** What the interface descriptor claims. */
  declared: { numEndpoints: number };
  /** HID, CDC functional and other class/vendor descriptors of this setting, in order. */
  classDescriptors: UsbClassDescriptor[];
  endpoints: UsbEndpoint[];
}

/** An interface: all alternate settings sharing one bInterfaceNumber, in the order they appeared. */
export interface UsbInterface {
  number: number;
  alternates: UsbAlternateSetting[];
}

/** An interface association descriptor (IAD ECN, type 0x0B). */
export interface UsbInterfaceAssociation {
  offset: number;
  firstInterface: number;
  interfaceCount: number;
  functionClass: number;
  functionSubClass: number;
  functionProtocol: number;
  /** iFunction; 0 = no string. */
  stringIndex: number;
}

/**
 * A function as a host driver sees it: the interfaces one IAD groups, or a single interface no IAD
 * covers. An IAD pointing at missing interfaces gives a function with fewer (or no) interfaces.
 */
export interface UsbFunction {
  association?: UsbInterfaceAssociation;
  interfaces: UsbInterface[];
}

/** A configuration descriptor with its whole tree (USB 2.0 §9.6.3). */
export interface UsbConfiguration {
  /** bConfigurationValue: the value SET_CONFIGURATION selects it with. */
  configurationValue: number;
  /** iConfiguration; 0 = no string. */
  stringIndex: number;
  /** bmAttributes as sent. */
  attributes: number;
  /** bmAttributes bit 6. */
  selfPowered: boolean;
  /** bmAttributes bit 5. */
  remoteWakeup: boolean;
  /** bMaxPower × 2 mA (USB 2.0 units). */
  maxPowerMa: number;
  /** What the configuration descriptor claims. */
  declared: { totalLength: number; numInterfaces: number };
  /**
   * Descriptors outside any interface: between the configuration descriptor and the first IAD or
   * interface (e.g. OTG), or between an IAD and its first interface.
   */
  extra: UsbRawDescriptor[];
  /** Functions in descriptor order. */
  functions: UsbFunction[];
  /** Every interface in order of first appearance (the same objects as under `functions`). */
  interfaces: UsbInterface[];
  /** Every IAD in descriptor order (the same objects as under `functions`). */
  associations: UsbInterfaceAssociation[];
}
