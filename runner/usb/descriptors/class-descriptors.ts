/**
 * Class-specific interface descriptors the tree decodes: the HID descriptor (HID 1.11 §6.2.1) and the
 * CDC functional descriptors a virtual serial port uses (CDC 1.2 §5.2.3: header, call management,
 * abstract control management, union; PSTN 1.2 §5.3). Anything else stays raw. A known descriptor too
 * short for its fields also stays raw, with a `defect`: hosts enumerate such a device, only the class
 * driver refuses it, so this is a validation problem, not a parse error.
 */
import type { UsbRawDescriptor } from './descriptor-walk.ts';
import { readU16 } from './descriptor-walk.ts';
import { DescriptorWriter } from './descriptor-writer.ts';
import { CdcSubtype, DescriptorSize, DescriptorType, UsbClass } from './usb-constants.ts';

/** HID descriptor: HID version, country and the class descriptors (report, physical) the host fetches next. */
export interface HidDescriptorFields {
  kind: 'hid';
  /** bcdHID (BCD), e.g. 0x0111. */
  hidVersion: number;
  /** bCountryCode; 0 = not localized. */
  countryCode: number;
  /** The bDescriptorType / wDescriptorLength pairs; a report descriptor is type 0x22. */
  subordinateDescriptors: { descriptorType: number; length: number }[];
}

/** CDC header functional descriptor: starts an interface's functional descriptors. */
export interface CdcHeaderFields {
  kind: 'cdc-header';
  /** bcdCDC (BCD), e.g. 0x0120. */
  cdcVersion: number;
}

/** CDC call management functional descriptor. */
export interface CdcCallManagementFields {
  kind: 'cdc-call-management';
  /** bmCapabilities: bit 0 device handles call management, bit 1 over the data interface. */
  capabilities: number;
  /** bDataInterface: the data class interface used for call management. */
  dataInterface: number;
}

/** CDC abstract control management functional descriptor. */
export interface CdcAcmFields {
  kind: 'cdc-acm';
  /**
   * bmCapabilities: bit 1 line coding + control line state, bit 2 send break, bit 0 comm feature,
   * bit 3 network connection.
   */
  capabilities: number;
}

/** CDC union functional descriptor: which interfaces form one function. */
export interface CdcUnionFields {
  kind: 'cdc-union';
  /** bControlInterface. */
  controlInterface: number;
  /** bSubordinateInterface0..n. */
  subordinateInterfaces: number[];
}

/** Content of a raw class descriptor for the encoder: the whole descriptor, header included. */
export interface RawDescriptorSpec {
  kind: 'raw';
  bytes: Uint8Array;
}

/** A class descriptor as the encoder takes it. */
export type ClassDescriptorSpec =
  | HidDescriptorFields
  | CdcHeaderFields
  | CdcCallManagementFields
  | CdcAcmFields
  | CdcUnionFields
  | RawDescriptorSpec;

/** A decoded class descriptor with its byte offset in the configuration. */
export type UsbDecodedClassDescriptor = (HidDescriptorFields | CdcHeaderFields | CdcCallManagementFields | CdcAcmFields | CdcUnionFields) & {
  offset: number;
};

/** A class descriptor as the parser returns it. */
export type UsbClassDescriptor = UsbDecodedClassDescriptor | UsbRawDescriptor;

/**
 * Decodes `raw` when the interface class gives its type a meaning (0x21 is HID only in HID interfaces;
 * 0x24 subtypes are CDC only in CDC communication interfaces), else returns it unchanged.
 */
export function decodeClassDescriptor(raw: UsbRawDescriptor, interfaceClass: number): UsbClassDescriptor {
  const b = raw.bytes;
  const located = <T extends object>(fields: T): T & { offset: number } => ({ ...fields, offset: raw.offset });
  if (raw.descriptorType === DescriptorType.hid && interfaceClass === UsbClass.hid) {
    if (b.length < DescriptorSize.hidFixed) return defective(raw, `HID descriptor has bLength ${b.length}, its fixed fields need ${DescriptorSize.hidFixed}`);
    const count = b[5]!;
    const needed = DescriptorSize.hidFixed + 3 * count;
    if (b.length < needed) return defective(raw, `HID descriptor lists ${count} class descriptor(s), which need bLength ${needed}, not ${b.length}`);
    const subordinateDescriptors: HidDescriptorFields['subordinateDescriptors'] = [];
    for (let i = 0; i < count; i++) {
      const at = DescriptorSize.hidFixed + 3 * i;
      subordinateDescriptors.push({ descriptorType: b[at]!, length: readU16(b, at + 1) });
    }
    return located({ kind: 'hid', hidVersion: readU16(b, 2), countryCode: b[4]!, subordinateDescriptors });
  }
  if (raw.descriptorType === DescriptorType.classSpecificInterface && interfaceClass === UsbClass.cdc) {
    if (b.length < 3) return defective(raw, `CDC functional descriptor has bLength ${b.length}, without room for its subtype`);
    switch (b[2]) {
      case CdcSubtype.header:
        return b.length < 5 ? defective(raw, cdcTooShort('header', b.length, 5)) : located({ kind: 'cdc-header', cdcVersion: readU16(b, 3) });
      case CdcSubtype.callManagement:
        return b.length < 5
          ? defective(raw, cdcTooShort('call management', b.length, 5))
          : located({ kind: 'cdc-call-management', capabilities: b[3]!, dataInterface: b[4]! });
      case CdcSubtype.abstractControlManagement:
        return b.length < 4 ? defective(raw, cdcTooShort('ACM', b.length, 4)) : located({ kind: 'cdc-acm', capabilities: b[3]! });
      case CdcSubtype.union:
        return b.length < 5
          ? defective(raw, cdcTooShort('union', b.length, 5))
          : located({ kind: 'cdc-union', controlInterface: b[3]!, subordinateInterfaces: Array.from(b.subarray(4)) });
      default:
        return raw;
    }
  }
  return raw;
}

/** Appends the bytes of one class descriptor. */
export function writeClassDescriptor(w: DescriptorWriter, spec: ClassDescriptorSpec): void {
  if (spec.kind === 'raw') {
    w.append(spec.bytes);
    return;
  }
  const start = w.offset;
  w.u8(0, 'bLength');
  switch (spec.kind) {
    case 'hid':
      w.u8(DescriptorType.hid, 'bDescriptorType');
      w.u16(spec.hidVersion, 'bcdHID');
      w.u8(spec.countryCode, 'bCountryCode');
      w.u8(spec.subordinateDescriptors.length, 'bNumDescriptors');
      for (const entry of spec.subordinateDescriptors) {
        w.u8(entry.descriptorType, 'bDescriptorType (HID class descriptor)');
        w.u16(entry.length, 'wDescriptorLength');
      }
      break;
    case 'cdc-header':
      cdcStart(w, CdcSubtype.header);
      w.u16(spec.cdcVersion, 'bcdCDC');
      break;
    case 'cdc-call-management':
      cdcStart(w, CdcSubtype.callManagement);
      w.u8(spec.capabilities, 'bmCapabilities');
      w.u8(spec.dataInterface, 'bDataInterface');
      break;
    case 'cdc-acm':
      cdcStart(w, CdcSubtype.abstractControlManagement);
      w.u8(spec.capabilities, 'bmCapabilities');
      break;
    case 'cdc-union':
      cdcStart(w, CdcSubtype.union);
      w.u8(spec.controlInterface, 'bControlInterface');
      for (const itf of spec.subordinateInterfaces) w.u8(itf, 'bSubordinateInterface');
      break;
  }
  w.patchU8(start, w.offset - start, 'bLength');
}

function cdcStart(w: DescriptorWriter, subtype: number): void {
  w.u8(DescriptorType.classSpecificInterface, 'bDescriptorType');
  w.u8(subtype, 'bDescriptorSubtype');
}

function defective(raw: UsbRawDescriptor, defect: string): UsbRawDescriptor {
  return { ...raw, defect };
}

function cdcTooShort(name: string, length: number, needed: number): string {
  return `CDC ${name} functional descriptor has bLength ${length}, its fields need ${needed}`;
}
