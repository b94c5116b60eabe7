/**
 * How the host-side USB view turns a WebUSB rejection into the rig's error catalogue, in one place.
 * WebUSB rejects with DOMExceptions whose `name` says what happened: `NotFoundError` (the device has
 * gone), `InvalidStateError` (not opened, interface not claimed), `NetworkError` (the transfer or claim
 * failed), `AbortError` (the device was closed meanwhile); bad parameters are a `TypeError`.
 */
import { HilError, type ErrorCode } from '../errors.ts';
import { hexByte } from './descriptors/descriptor-format.ts';
import type { UsbControlSetup } from './usb-control-device.ts';

/** Code of a transfer, claim or open the device or host refused (or a stall where success was required). */
export const USB_TRANSFER_ERROR_CODE: ErrorCode = 'USB_TRANSFER_FAILED';

/** `vendor request 0x01 to interface 2 (wValue 0x0000, wIndex 0x0002)`: a control request for a person. */
export function describeControlRequest(setup: UsbControlSetup): string {
  return `${setup.requestType} request ${hexByte(setup.request)} ${recipientText(setup)} (wValue ${hex16(setup.value)}, wIndex ${hex16(setup.index)})`;
}

/**
 * The catalogue error for `err`, raised by the WebUSB call `what` on the device at `portPath`.
 * HilErrors pass through unchanged; a TypeError (bad parameters) is `USAGE`.
 */
export function usbCallError(portPath: string, what: string, err: unknown, evidence: Record<string, unknown> = {}): HilError {
  if (err instanceof HilError) return err;
  const name = err instanceof Error ? err.name : 'Error';
  const message = err instanceof Error ? err.message : String(err);
  const fullEvidence = { portPath, phase: 'usb-transfer', request: what, transferError: name, ...evidence };
  if (err instanceof TypeError) return new HilError('USAGE', `${portPath}: ${what}: invalid parameters: ${message}`, fullEvidence, { cause: err });
  return new HilError(USB_TRANSFER_ERROR_CODE, `${portPath}: ${what} failed: ${explain(name, message)}`, fullEvidence, { cause: err });
}

function explain(name: string, message: string): string {
  switch (name) {
    case 'NotFoundError':
      return `the device has gone or has no such interface or endpoint (${message})`;
    case 'InvalidStateError':
      return `${message} (open the device and claim the interface first)`;
    case 'AbortError':
      return `cancelled because the device or interface was closed (${message})`;
    default:
      return name === 'Error' ? message : `${name}: ${message}`;
  }
}

function recipientText(setup: UsbControlSetup): string {
  switch (setup.recipient) {
    case 'device':
      return 'to the device';
    case 'interface':
      return `to interface ${setup.index & 0xff}`;
    case 'endpoint':
      return `to endpoint ${hexByte(setup.index & 0xff)}`;
    default:
      return `to port ${setup.index}`;
  }
}

function hex16(value: number): string {
  return `0x${value.toString(16).padStart(4, '0')}`;
}
