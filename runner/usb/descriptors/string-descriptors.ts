/**
 * String descriptors (USB 2.0 §9.6.7): index 0 lists the supported LANGIDs, every other index holds
 * one UTF-16LE string without terminator. At most 126 UTF-16 code units fit (bLength ≤ 255).
 */
import { DescriptorWriter } from './descriptor-writer.ts';
import { hexByte } from './descriptor-format.ts';
import { readU16 } from './descriptor-walk.ts';
import { DescriptorType, LANGID_EN_US } from './usb-constants.ts';
import { UsbDescriptorError } from './usb-descriptor-error.ts';

/** Most UTF-16 code units a string descriptor holds: (255 - 2) / 2, rounded down. */
export const MAX_STRING_UTF16_UNITS = 126;

/**
 * Parses string descriptor 0: the LANGIDs (e.g. 0x0409 US English) a host may request strings in.
 *
 * @throws UsbDescriptorError as {@link parseStringDescriptor}.
 */
export function parseLanguageIds(data: Uint8Array): number[] {
  const payload = stringPayload(data);
  const ids: number[] = [];
  for (let i = 0; i < payload.length; i += 2) ids.push(readU16(payload, i));
  return ids;
}

/**
 * Parses a string descriptor into text; bytes past bLength are ignored.
 *
 * @throws UsbDescriptorError `truncated`, `wrong-type` (not 0x03), `zero-length`/`too-short`,
 *   `odd-string-length` (half a UTF-16 code unit).
 */
export function parseStringDescriptor(data: Uint8Array): string {
  return new TextDecoder('utf-16le').decode(stringPayload(data));
}

/** Builds string descriptor 0 from LANGIDs (default: US English only). */
export function encodeLanguageIds(languageIds: readonly number[] = [LANGID_EN_US]): Uint8Array {
  const w = new DescriptorWriter();
  w.u8(2 + 2 * languageIds.length, 'bLength');
  w.u8(DescriptorType.string, 'bDescriptorType');
  for (const id of languageIds) w.u16(id, 'wLANGID');
  return w.toBytes();
}

/**
 * Builds a string descriptor holding `text` as UTF-16LE.
 *
 * @throws UsbDescriptorError `value-out-of-range` above {@link MAX_STRING_UTF16_UNITS} code units.
 */
export function encodeStringDescriptor(text: string): Uint8Array {
  if (text.length > MAX_STRING_UTF16_UNITS) {
    throw new UsbDescriptorError('value-out-of-range', 0,
      `string of ${text.length} UTF-16 code units does not fit a string descriptor (at most ${MAX_STRING_UTF16_UNITS})`);
  }
  const w = new DescriptorWriter();
  w.u8(2 + 2 * text.length, 'bLength');
  w.u8(DescriptorType.string, 'bDescriptorType');
  for (let i = 0; i < text.length; i++) w.u16(text.charCodeAt(i), 'bString');
  return w.toBytes();
}

function stringPayload(data: Uint8Array): Uint8Array {
  if (data.length < 2) {
    throw new UsbDescriptorError('truncated', 0, `${data.length} byte(s), a string descriptor has at least 2`, { bytes: data });
  }
  if (data[1] !== DescriptorType.string) {
    throw new UsbDescriptorError('wrong-type', 1, `descriptor type ${hexByte(data[1]!)} where a string descriptor (0x03) is required`, { bytes: data });
  }
  const length = data[0]!;
  if (length === 0) throw new UsbDescriptorError('zero-length', 0, 'string descriptor has bLength 0', { bytes: data });
  if (length < 2) throw new UsbDescriptorError('too-short', 0, `string descriptor has bLength ${length}, the header alone needs 2`, { bytes: data });
  if (length > data.length) {
    throw new UsbDescriptorError('truncated', data.length, `string descriptor says bLength ${length} but only ${data.length} bytes arrived`, { bytes: data });
  }
  if (length % 2 !== 0) {
    throw new UsbDescriptorError('odd-string-length', 0, `string descriptor bLength ${length} leaves half a UTF-16 code unit`, { bytes: data });
  }
  return data.subarray(2, length);
}
