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
 * - `GET  /usb/devices/<portPath>` → {@link DeviceInfo}, 404 when nothing is enumerated there (or the
 *   path is not a device port path)
 * - `POST /usb/devices/<portPath>/control?enumeration=N` with {@link ControlTransferRequest} → {@link ControlTransferResponse}
 * - `POST /usb/devices/<portPath>/claim?enumeration=N` and `/release` with {@link InterfaceRequest} → `{}`
 * - `POST /usb/devices/<portPath>/transfer?enumeration=N` with {@link EndpointTransferRequest} →
 *   {@link ControlTransferResponse}; a long poll: answered when the device answers (an IN waits for
 *   data), when the device goes (410) or when the lab closes (503)
 *
 * `enumeration` is the {@link DeviceInfo.enumeration} the client opened: once the device at that path
 * has left or re-enumerated, every call answers 410 — a WebUSB device object never outlives its
 * enumeration. Errors of a device's own rejection carry the WebUSB `name` (400 TypeError, 404
 * NotFoundError for an unknown interface or endpoint, 409 InvalidStateError, 500 others).
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

/** `/usb/devices/<portPath>`. */
export function deviceResourcePath(portPath: string): string {
  return `${USB_DEVICES_PATH}/${encodeURIComponent(portPath)}`;
}

/** What can be done to an opened device. */
export type DeviceAction = 'control' | 'claim' | 'release' | 'transfer';

/** `/usb/devices/<portPath>/<action>?enumeration=N`. */
export function deviceActionPath(portPath: string, action: DeviceAction, enumeration: number): string {
  return `${deviceResourcePath(portPath)}/${action}?enumeration=${enumeration}`;
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

/** Answer of `GET /usb/devices/<portPath>`. */
export interface DeviceInfo {
  portPath: string;
  vendorId: number;
  productId: number;
  /** Which enumeration of the device at this path this is; it changes whenever a device leaves or arrives there. */
  enumeration: number;
}

/** Body of `POST .../claim` and `.../release`. */
export interface InterfaceRequest {
  interfaceNumber: number;
}

/** Body of `POST .../transfer`: WebUSB's transferIn / transferOut (endpoint number 1–15, no direction bit). */
export type EndpointTransferRequest =
  | { direction: 'in'; endpointNumber: number; /** Bytes wanted. */ length: number }
  | { direction: 'out'; endpointNumber: number; /** base64. */ data: string };

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
