/** Small formatters shared by error messages and problem reports. */
import { ENDPOINT_DIRECTION_IN, ENDPOINT_NUMBER_MASK } from './usb-constants.ts';

/** `0x81`: a byte as two-digit hex. */
export function hexByte(value: number): string {
  return `0x${value.toString(16).padStart(2, '0')}`;
}

/** `0x81 (EP 1 IN)`: what a person needs to find an endpoint in a descriptor dump. */
export function describeEndpointAddress(address: number): string {
  const direction = (address & ENDPOINT_DIRECTION_IN) !== 0 ? 'IN' : 'OUT';
  return `${hexByte(address)} (EP ${address & ENDPOINT_NUMBER_MASK} ${direction})`;
}

/** Space-separated hex of `bytes`, cut to `maxBytes` with an ellipsis: evidence stays readable. */
export function hexDump(bytes: Uint8Array, maxBytes = 48): string {
  const shown = Array.from(bytes.subarray(0, maxBytes), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return bytes.length > maxBytes ? `${shown} …` : shown;
}
