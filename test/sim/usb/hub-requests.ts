/** Hub class requests for tests, written as the 8 setup bytes of reference/usb-hub-power.md. */
import { decodeSetupPacket, type UsbControlDevice, type UsbInTransferResult, type UsbOutTransferResult } from '../../../runner/usb/usb-control-device.ts';

/** Sends the request whose setup packet is `hex` (e.g. `23 03 08 00 02 00 00 00`). */
export async function send(device: UsbControlDevice, hex: string): Promise<UsbInTransferResult | UsbOutTransferResult> {
  const { direction, setup, length } = decodeSetupPacket(Uint8Array.from(hex.trim().split(/\s+/).map((byte) => Number.parseInt(byte, 16))));
  return direction === 'in' ? device.controlTransferIn(setup, length) : device.controlTransferOut(setup);
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** SetPortFeature / ClearPortFeature. */
export const setPortFeature = (device: UsbControlDevice, feature: number, port: number) => send(device, `23 03 ${hex2(feature)} 00 ${hex2(port)} 00 00 00`);
export const clearPortFeature = (device: UsbControlDevice, feature: number, port: number) => send(device, `23 01 ${hex2(feature)} 00 ${hex2(port)} 00 00 00`);

/** GetPortStatus: wPortStatus and wPortChange, or 'stall'. */
export async function portStatus(device: UsbControlDevice, port: number): Promise<{ status: number; change: number } | 'stall'> {
  const result = (await send(device, `a3 00 00 00 ${hex2(port)} 00 04 00`)) as UsbInTransferResult;
  if (result.status !== 'ok' || result.data === undefined) return 'stall';
  return { status: result.data.getUint16(0, true), change: result.data.getUint16(2, true) };
}

/** The bytes of an IN result. */
export function bytesOf(result: UsbInTransferResult | UsbOutTransferResult): number[] {
  return 'data' in result && result.data !== undefined ? [...new Uint8Array(result.data.buffer, result.data.byteOffset, result.data.byteLength)] : [];
}
