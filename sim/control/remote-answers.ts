/**
 * Small pieces both remote device handles (hub and device) need to turn the control server's JSON
 * back into WebUSB shapes.
 */
import type { UsbControlSetup, UsbTransferStatus } from '../../runner/usb/usb-control-device.ts';
import type { LabControlAnswer } from './lab-control-http.ts';
import type { ControlErrorBody, ControlTransferResponse } from './lab-control-wire.ts';

const STATUSES: readonly UsbTransferStatus[] = ['ok', 'stall', 'babble'];

/** Just the five WebUSB fields (a caller's object may carry more). */
export function setupOf(setup: UsbControlSetup): UsbControlSetup {
  return { requestType: setup.requestType, recipient: setup.recipient, request: setup.request, value: setup.value, index: setup.index };
}

export function dataViewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The `{ error, name? }` of an error answer, with a fallback message when the body is not one. */
export function errorBodyOf(answer: LabControlAnswer): ControlErrorBody {
  const body = answer.body as Partial<ControlErrorBody> | null;
  const error = typeof body?.error === 'string' ? body.error : `the virtual lab answered HTTP ${answer.statusCode}`;
  return typeof body?.name === 'string' ? { error, name: body.name } : { error };
}

/** True when `body` carries a WebUSB transfer status. */
export function isTransferResponse(body: unknown): body is ControlTransferResponse {
  return typeof body === 'object' && body !== null && STATUSES.includes((body as { status?: unknown }).status as UsbTransferStatus);
}
