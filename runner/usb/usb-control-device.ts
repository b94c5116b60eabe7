/**
 * The control-transfer surface of a USB device as WebUSB defines it — which is what the `usb` package
 * (v3) gives for every device, and what the virtual lab's simulated hub answers. Hub port power
 * (hub-port-power.ts) talks only to this, so the same code drives a physical hub, a recording fake in
 * tests, and the simulated hub.
 */

/** WebUSB `USBControlTransferParameters`. */
export interface UsbControlSetup {
  requestType: 'standard' | 'class' | 'vendor';
  recipient: 'device' | 'interface' | 'endpoint' | 'other';
  request: number;
  value: number;
  index: number;
}

/** WebUSB `USBTransferStatus`: a stall is a normal answer ("request not supported"), not an exception. */
export type UsbTransferStatus = 'ok' | 'stall' | 'babble';

/** WebUSB `USBInTransferResult`. */
export interface UsbInTransferResult {
  status: UsbTransferStatus;
  data?: DataView | undefined;
}

/** WebUSB `USBOutTransferResult`. */
export interface UsbOutTransferResult {
  status: UsbTransferStatus;
  bytesWritten: number;
}

/** The members of WebUSB's `USBDevice` used for control transfers. */
export interface UsbControlDevice {
  readonly vendorId: number;
  readonly productId: number;
  readonly opened: boolean;
  open(): Promise<void>;
  close(): Promise<void>;
  controlTransferIn(setup: UsbControlSetup, length: number): Promise<UsbInTransferResult>;
  controlTransferOut(setup: UsbControlSetup, data?: BufferSource): Promise<UsbOutTransferResult>;
}

const REQUEST_TYPE_BITS: Readonly<Record<UsbControlSetup['requestType'], number>> = { standard: 0x00, class: 0x20, vendor: 0x40 };
const RECIPIENT_BITS: Readonly<Record<UsbControlSetup['recipient'], number>> = { device: 0, interface: 1, endpoint: 2, other: 3 };

/**
 * The 8 setup bytes of a control transfer (USB 2.0 §9.3): bmRequestType, bRequest, wValue, wIndex,
 * wLength, little-endian. What goes on the wire; tests compare against it byte for byte.
 */
export function encodeSetupPacket(direction: 'in' | 'out', setup: UsbControlSetup, length: number): Uint8Array {
  const bytes = new Uint8Array(8);
  const view = new DataView(bytes.buffer);
  bytes[0] = (direction === 'in' ? 0x80 : 0x00) | REQUEST_TYPE_BITS[setup.requestType] | RECIPIENT_BITS[setup.recipient];
  bytes[1] = setup.request;
  view.setUint16(2, setup.value, true);
  view.setUint16(4, setup.index, true);
  view.setUint16(6, length, true);
  return bytes;
}

/** The inverse of {@link encodeSetupPacket}. RangeError for a reserved request type or recipient. */
export function decodeSetupPacket(bytes: Uint8Array): { direction: 'in' | 'out'; setup: UsbControlSetup; length: number } {
  if (bytes.length !== 8) throw new RangeError(`a setup packet has 8 bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  const type = (bytes[0]! >> 5) & 0x03;
  const recipient = bytes[0]! & 0x1f;
  const requestType = (['standard', 'class', 'vendor'] as const)[type];
  const recipientName = (['device', 'interface', 'endpoint', 'other'] as const)[recipient];
  if (requestType === undefined || recipientName === undefined) throw new RangeError(`reserved bmRequestType 0x${bytes[0]!.toString(16)}`);
  return {
    direction: bytes[0]! & 0x80 ? 'in' : 'out',
    setup: { requestType, recipient: recipientName, request: bytes[1]!, value: view.getUint16(2, true), index: view.getUint16(4, true) },
    length: view.getUint16(6, true),
  };
}
