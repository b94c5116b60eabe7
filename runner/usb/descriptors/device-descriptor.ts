/**
 * The 18-byte device descriptor (USB 2.0 §9.6.1, Table 9-8): identity (VID/PID), class triple, ep0
 * packet size and the string indexes a host reads next.
 */
import { DescriptorWriter } from './descriptor-writer.ts';
import { hexByte } from './descriptor-format.ts';
import { readU16 } from './descriptor-walk.ts';
import { DescriptorSize, DescriptorType } from './usb-constants.ts';
import { UsbDescriptorError } from './usb-descriptor-error.ts';

/** A parsed device descriptor. BCD fields stay numbers: 0x0200 = USB 2.00. */
export interface UsbDeviceDescriptor {
  /** bcdUSB (BCD). */
  usbVersion: number;
  /** bDeviceClass; 0 = per interface, 0xEF with subclass 2 / protocol 1 = uses IADs. */
  deviceClass: number;
  deviceSubClass: number;
  deviceProtocol: number;
  /** bMaxPacketSize0, bytes. */
  maxPacketSize0: number;
  vendorId: number;
  productId: number;
  /** bcdDevice (BCD). */
  deviceVersion: number;
  /** iManufacturer; 0 = no string. */
  manufacturerStringIndex: number;
  /** iProduct; 0 = no string. */
  productStringIndex: number;
  /** iSerialNumber; 0 = no string. */
  serialNumberStringIndex: number;
  /** bNumConfigurations. */
  numConfigurations: number;
}

/**
 * What the encoder needs: VID and PID; everything else defaults to a USB 2.0 device with class
 * 0/0/0, 64-byte ep0, version 0x0100, no strings and one configuration.
 */
export type UsbDeviceDescriptorSpec = Partial<UsbDeviceDescriptor> & Pick<UsbDeviceDescriptor, 'vendorId' | 'productId'>;

/**
 * Parses a device descriptor; bytes past bLength are ignored.
 *
 * @throws UsbDescriptorError `truncated`, `wrong-type` (not 0x01), `too-short` (bLength < 18).
 */
export function parseDeviceDescriptor(data: Uint8Array): UsbDeviceDescriptor {
  if (data.length < 2) {
    throw new UsbDescriptorError('truncated', 0, `${data.length} byte(s), a device descriptor has ${DescriptorSize.device}`, { bytes: data });
  }
  if (data[1] !== DescriptorType.device) {
    throw new UsbDescriptorError('wrong-type', 1, `descriptor type ${hexByte(data[1]!)} where a device descriptor (0x01) is required`, { bytes: data });
  }
  const length = data[0]!;
  if (length === 0) throw new UsbDescriptorError('zero-length', 0, 'device descriptor has bLength 0', { bytes: data });
  if (length < DescriptorSize.device) {
    throw new UsbDescriptorError('too-short', 0, `device descriptor has bLength ${length}, its fields need ${DescriptorSize.device}`, { bytes: data });
  }
  if (data.length < DescriptorSize.device) {
    throw new UsbDescriptorError('truncated', data.length, `device descriptor ends after ${data.length} of ${DescriptorSize.device} bytes`, { bytes: data });
  }
  return {
    usbVersion: readU16(data, 2),
    deviceClass: data[4]!,
    deviceSubClass: data[5]!,
    deviceProtocol: data[6]!,
    maxPacketSize0: data[7]!,
    vendorId: readU16(data, 8),
    productId: readU16(data, 10),
    deviceVersion: readU16(data, 12),
    manufacturerStringIndex: data[14]!,
    productStringIndex: data[15]!,
    serialNumberStringIndex: data[16]!,
    numConfigurations: data[17]!,
  };
}

/**
 * Builds the 18 bytes of a device descriptor.
 *
 * @throws UsbDescriptorError `value-out-of-range` when a field does not fit.
 */
export function encodeDeviceDescriptor(spec: UsbDeviceDescriptorSpec): Uint8Array {
  const w = new DescriptorWriter();
  w.u8(DescriptorSize.device, 'bLength');
  w.u8(DescriptorType.device, 'bDescriptorType');
  w.u16(spec.usbVersion ?? 0x0200, 'bcdUSB');
  w.u8(spec.deviceClass ?? 0, 'bDeviceClass');
  w.u8(spec.deviceSubClass ?? 0, 'bDeviceSubClass');
  w.u8(spec.deviceProtocol ?? 0, 'bDeviceProtocol');
  w.u8(spec.maxPacketSize0 ?? 64, 'bMaxPacketSize0');
  w.u16(spec.vendorId, 'idVendor');
  w.u16(spec.productId, 'idProduct');
  w.u16(spec.deviceVersion ?? 0x0100, 'bcdDevice');
  w.u8(spec.manufacturerStringIndex ?? 0, 'iManufacturer');
  w.u8(spec.productStringIndex ?? 0, 'iProduct');
  w.u8(spec.serialNumberStringIndex ?? 0, 'iSerialNumber');
  w.u8(spec.numConfigurations ?? 1, 'bNumConfigurations');
  return w.toBytes();
}
