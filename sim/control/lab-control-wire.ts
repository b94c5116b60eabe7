/**
 * What the virtual lab's control server and its clients agree on: paths, the event sequence header and
 * the JSON of a control transfer. Transfer data travels as base64 so bodies stay JSON.
 *
 * Routes (all JSON unless noted; errors are `{ error, name? }`):
 * - `GET  /usb/devices` → `DiscoverySnapshot`
 * - `GET  /usb/events` → `text/event-stream`: one `UsbHotplugEvent` JSON per `data:` line, numbered by
 *   `id:` lines; comment lines (`:`) keep an idle stream alive
 * - `GET  /usb/hubs/<portPath>` → {@link HubInfo}, 404 when no hub is enumerated there
 * - `POST /usb/hubs/<portPath>/control` with {@link ControlTransferRequest} → {@link ControlTransferResponse}
 */
import type { UsbControlSetup, UsbTransferStatus } from '../../runner/usb/usb-control-device.ts';

export const USB_DEVICES_PATH = '/usb/devices';
export const USB_EVENTS_PATH = '/usb/events';

/** `/usb/hubs/<portPath>`, the port path escaped for a URL path segment. */
export function hubResourcePath(portPath: string): string {
  return `/usb/hubs/${encodeURIComponent(portPath)}`;
}

/** `/usb/hubs/<portPath>/control`. */
export function hubControlPath(portPath: string): string {
  return `${hubResourcePath(portPath)}/control`;
}

/**
 * Response header on every answer and on the event stream: how many hot-plug events the lab had sent
 * when it answered. A client that also follows the event stream waits until it has seen that many, so
 * the events a transfer caused reach its listeners before the transfer resolves — as they do in process.
 */
export const EVENT_SEQ_HEADER = 'lab-event-seq';

/** Body of `POST /usb/hubs/<portPath>/control`. */
export type ControlTransferRequest =
  | { direction: 'in'; setup: UsbControlSetup; /** Bytes wanted, 0..65535. */ length: number }
  | { direction: 'out'; setup: UsbControlSetup; /** The data stage, base64; absent for none. */ data?: string };

/** Answer of `POST /usb/hubs/<portPath>/control` (WebUSB's transfer results, data as base64). */
export interface ControlTransferResponse {
  status: UsbTransferStatus;
  /** IN transfers with status `ok`. */
  data?: string;
  /** OUT transfers. */
  bytesWritten?: number;
}

/** Answer of `GET /usb/hubs/<portPath>`. */
export interface HubInfo {
  portPath: string;
  vendorId: number;
  productId: number;
}

/** Body of every 4xx/5xx answer. `name` is a WebUSB `DOMException` name when the transfer raised one. */
export interface ControlErrorBody {
  error: string;
  name?: string;
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Decodes into a fresh ArrayBuffer (never a pooled Buffer slab), usable as a WebUSB BufferSource. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const decoded = Buffer.from(text, 'base64');
  const bytes = new Uint8Array(new ArrayBuffer(decoded.byteLength));
  bytes.set(decoded);
  return bytes;
}

/** The bytes of a WebUSB `BufferSource` (an ArrayBuffer or a view on one), without copying. */
export function bytesOf(source: BufferSource): Uint8Array {
  return ArrayBuffer.isView(source)
    ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength)
    : new Uint8Array(source);
}
