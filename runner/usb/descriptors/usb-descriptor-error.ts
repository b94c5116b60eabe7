/**
 * The one error type of the descriptor parser, encoder and enumerability check: which byte is wrong
 * and what kind of fault it is, so a malformed device shows up as a clear failure instead of a
 * silently half-parsed tree.
 */
import { HilError, type ErrorCode } from '../../errors.ts';
import type { UsbConfigurationProblem } from './configuration-problem.ts';
import { hexDump } from './descriptor-format.ts';

/** Catalogue code of every {@link UsbDescriptorError}: a host meeting such descriptors does not enumerate the board. */
export const USB_DESCRIPTOR_ERROR_CODE: ErrorCode = 'USB_DESCRIPTOR_INVALID';

/** What is wrong, as a stable value to branch on. */
export type UsbDescriptorFault =
  /** bLength 0: a host walking the descriptors would never advance. */
  | 'zero-length'
  /** bLength smaller than the descriptor's fixed fields (or than the 2-byte header). */
  | 'too-short'
  /** bLength runs past wTotalLength or past the bytes given. */
  | 'past-end'
  /** The bytes end inside a descriptor or its header. */
  | 'truncated'
  /** bDescriptorType is not the one required at this place. */
  | 'wrong-type'
  /** wTotalLength disagrees with the bytes given (or with the configuration descriptor itself). */
  | 'total-length-mismatch'
  /** A descriptor where it cannot be: an endpoint before any interface, a device descriptor inside a configuration. */
  | 'misplaced'
  /** A string descriptor whose UTF-16LE payload has an odd number of bytes. */
  | 'odd-string-length'
  /** Encoder: a value does not fit its field (e.g. interface number 256, a string of 127 UTF-16 units). */
  | 'value-out-of-range'
  /** Validation found problems a host refuses the configuration for; see `problems`. */
  | 'not-enumerable';

/** Optional details of a {@link UsbDescriptorError}. */
export interface UsbDescriptorErrorDetails {
  /** The buffer the offset points into; a hex excerpt goes into the evidence. */
  bytes?: Uint8Array;
  /** For `not-enumerable`: every refusing problem. */
  problems?: readonly UsbConfigurationProblem[];
}

/** Malformed or non-enumerable USB descriptors, with the byte offset and the kind of fault. */
export class UsbDescriptorError extends HilError {
  /** Byte offset of the fault within the buffer parsed or built. */
  readonly offset: number;
  readonly fault: UsbDescriptorFault;
  readonly problems: readonly UsbConfigurationProblem[];

  constructor(fault: UsbDescriptorFault, offset: number, message: string, details: UsbDescriptorErrorDetails = {}) {
    const evidence: Record<string, unknown> = { phase: 'usb-descriptors', fault, offset };
    if (details.bytes !== undefined) evidence['descriptorBytes'] = hexDump(details.bytes.subarray(offset, offset + 32));
    super(USB_DESCRIPTOR_ERROR_CODE, `USB descriptors, byte ${offset}: ${message}`, evidence);
    this.name = 'UsbDescriptorError';
    this.offset = offset;
    this.fault = fault;
    this.problems = details.problems ?? [];
  }
}
