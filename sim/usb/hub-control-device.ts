/**
 * The simulated hub as the runner's {@link UsbControlDevice}, behaving like a WebUSB `USBDevice`:
 * transfers need `open()` first (else an `InvalidStateError` DOMException), a stall is a result with
 * status `stall` (never an exception), IN data is cut to the requested length, and once the hub is
 * gone every call rejects with a `NotFoundError` DOMException.
 */
import type {
  UsbControlDevice,
  UsbControlSetup,
  UsbInTransferResult,
  UsbOutTransferResult,
} from '../../runner/usb/usb-control-device.ts';
import { answerHubRequestIn, answerHubRequestOut, type HubRequestTarget } from './hub-class-requests.ts';

/** The hub behind a control device. */
export interface ControlledHub extends HubRequestTarget {
  readonly vendorId: number;
  readonly productId: number;
  /** False once the hub has been disposed (unplugged, lab closed). */
  isPresent(): boolean;
}

/** One handle on the hub's endpoint 0; each handle is opened and closed on its own. */
export class HubControlDevice implements UsbControlDevice {
  readonly #hub: ControlledHub;
  #opened = false;

  constructor(hub: ControlledHub) {
    this.#hub = hub;
  }

  get vendorId(): number {
    return this.#hub.vendorId;
  }

  get productId(): number {
    return this.#hub.productId;
  }

  get opened(): boolean {
    return this.#opened && this.#hub.isPresent();
  }

  async open(): Promise<void> {
    this.#checkPresent();
    this.#opened = true;
  }

  async close(): Promise<void> {
    this.#opened = false;
  }

  async controlTransferIn(setup: UsbControlSetup, length: number): Promise<UsbInTransferResult> {
    this.#checkUsable();
    if (!Number.isInteger(length) || length < 0 || length > 0xffff) throw new TypeError(`length must be an integer 0..65535, got ${length}`);
    const answer = answerHubRequestIn(this.#hub, setup);
    if (answer.status === 'stall') return { status: 'stall', data: undefined };
    const data = answer.data.slice(0, length);
    return { status: 'ok', data: new DataView(data.buffer) };
  }

  async controlTransferOut(setup: UsbControlSetup, data?: BufferSource): Promise<UsbOutTransferResult> {
    this.#checkUsable();
    const dataLength = data === undefined ? 0 : data.byteLength;
    const answer = answerHubRequestOut(this.#hub, setup, dataLength);
    return answer.status === 'stall' ? { status: 'stall', bytesWritten: 0 } : { status: 'ok', bytesWritten: dataLength };
  }

  #checkPresent(): void {
    if (!this.#hub.isPresent()) throw new DOMException('The device was disconnected.', 'NotFoundError');
  }

  #checkUsable(): void {
    this.#checkPresent();
    if (!this.#opened) throw new DOMException('The device must be opened first.', 'InvalidStateError');
  }
}
