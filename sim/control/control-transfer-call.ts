/**
 * One validated control transfer carried out on a WebUSB-shaped device and its result put in wire
 * form (data as base64). Shared by the hub and the device routes.
 */
import type { UsbControlDevice } from '../../runner/usb/usb-control-device.ts';
import { fromBase64, toBase64, type ControlTransferRequest, type ControlTransferResponse } from './lab-control-wire.ts';

export async function controlTransferOn(device: UsbControlDevice, request: ControlTransferRequest): Promise<ControlTransferResponse> {
  if (request.direction === 'in') {
    const result = await device.controlTransferIn(request.setup, request.length);
    const data = result.data;
    return data === undefined ? { status: result.status } : { status: result.status, data: toBase64(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) };
  }
  const result = await device.controlTransferOut(request.setup, request.data === undefined ? undefined : fromBase64(request.data));
  return { status: result.status, bytesWritten: result.bytesWritten };
}
