/**
 * What the encoder builds a configuration from. A parsed {@link UsbConfiguration} is also a valid
 * spec, so `encodeConfiguration(parseConfiguration(bytes))` round-trips. Counts and lengths are
 * computed unless `declared` overrides them — the way tests (and fault switches) build malformed
 * descriptors on purpose. A parsed tree carries `declared`: drop it after editing the tree, or the old
 * counts are written back.
 */
import type { ClassDescriptorSpec, RawDescriptorSpec } from './class-descriptors.ts';
import type { TransferType } from './usb-constants.ts';

export interface EndpointSpec {
  /** bEndpointAddress: number | 0x80 for IN. */
  address: number;
  /** Transfer type; ignored when `attributes` is given. */
  transferType?: TransferType;
  /** bmAttributes byte as sent; wins over `transferType`. One of the two is required. */
  attributes?: number;
  /** Bytes per transaction (wMaxPacketSize bits 10..0). */
  maxPacketSize: number;
  /** wMaxPacketSize bits 12..11. Default 0. */
  additionalTransactions?: number;
  /** bInterval. Default 0 (bulk), callers set it for interrupt and isochronous endpoints. */
  interval?: number;
  /** Bytes after the 7 standard ones (Audio 1.0 endpoints). */
  tail?: Uint8Array;
  /** Descriptors written right after the endpoint (CS_ENDPOINT and the like). */
  extra?: RawDescriptorSpec[];
}

export interface AlternateSettingSpec {
  /** bAlternateSetting. Default: its index in the interface's list. */
  alternateSetting?: number;
  /** bInterfaceNumber. Default: the interface's number; set it only to build a mismatch. */
  interfaceNumber?: number;
  interfaceClass: number;
  interfaceSubClass?: number;
  interfaceProtocol?: number;
  /** iInterface. Default 0. */
  stringIndex?: number;
  classDescriptors?: ClassDescriptorSpec[];
  endpoints?: EndpointSpec[];
  /** bNumEndpoints to write instead of the number of endpoints. */
  declared?: { numEndpoints?: number };
}

export interface InterfaceSpec {
  number: number;
  alternates: AlternateSettingSpec[];
}

export interface InterfaceAssociationSpec {
  /** Default: the number of the function's first interface. */
  firstInterface?: number;
  /** Default: how many interfaces the function has. */
  interfaceCount?: number;
  functionClass: number;
  functionSubClass?: number;
  functionProtocol?: number;
  /** iFunction. Default 0. */
  stringIndex?: number;
}

/** A function: its interfaces, preceded by an IAD when `association` is given. */
export interface FunctionSpec {
  association?: InterfaceAssociationSpec;
  interfaces: InterfaceSpec[];
}

export interface ConfigurationSpec {
  /** bConfigurationValue. Default 1. */
  configurationValue?: number;
  /** iConfiguration. Default 0. */
  stringIndex?: number;
  /** bmAttributes as sent; wins over `selfPowered` and `remoteWakeup`. */
  attributes?: number;
  /** Default false (bus powered). */
  selfPowered?: boolean;
  /** Default false. */
  remoteWakeup?: boolean;
  /** Written as bMaxPower = ⌈mA / 2⌉. Default 100. */
  maxPowerMa?: number;
  /** Descriptors written before the first function (OTG and the like). */
  extra?: RawDescriptorSpec[];
  functions: FunctionSpec[];
  /** wTotalLength / bNumInterfaces to write instead of the computed values. */
  declared?: { totalLength?: number; numInterfaces?: number };
}
