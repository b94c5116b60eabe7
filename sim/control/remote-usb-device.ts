/**
 * A device of the virtual lab, in another process, as the runner's {@link UsbTransferDevice}: every
 * call is one POST to the lab's control server (device-routes.ts). It behaves like a WebUSB
 * `USBDevice` (and like the lab's device in process): calls need `open()` first (else
 * `InvalidStateError`), a stall is a status, bad parameters reject with a TypeError, an IN transfer
 * waits until the device sends (a long poll), close() ends pending transfers with `AbortError` and
 * releases the interfaces claimed through this handle, and once the device has gone — detached or
 * re-enumerated since it was looked up — every call rejects with `NotFoundError`. An unreachable lab
 * is a `NetworkError`.
 *
 * The lab keeps one handle per device for all its clients, so what this handle claims is released on
 * close(); a client that never closes leaves the interface claimed for the next one (who can still
 * claim it: claiming a claimed interface succeeds).
 */
import type { UsbControlSetup, UsbInTransferResult, UsbOutTransferResult } from '../../runner/usb/usb-control-device.ts';
import type { UsbTransferDevice } from '../../runner/usb/usb-transfer-device.ts';
import { LabControlUnreachable, type LabControlAnswer } from './lab-control-http.ts';
import {
  bytesOf,
  deviceActionPath,
  deviceResourcePath,
  fromBase64,
  toBase64,
  type ControlTransferRequest,
  type ControlTransferResponse,
  type DeviceAction,
  type DeviceInfo,
  type EndpointTransferRequest,
} from './lab-control-wire.ts';
import { dataViewOf, errorBodyOf, isTransferResponse, setupOf } from './remote-answers.ts';
import type { LabControlCall } from './remote-hub-device.ts';

export class RemoteUsbDevice implements UsbTransferDevice {
  readonly vendorId: number;
  readonly productId: number;
  readonly portPath: string;
  /** The enumeration this handle belongs to (see lab-control-wire.ts). */
  readonly enumeration: number;
  readonly #call: LabControlCall;
  readonly #claimed = new Set<number>();
  #opened = false;
  #gone = false;
  /** Ends this handle's requests under way (close). */
  #inFlight = new AbortController();

  constructor(call: LabControlCall, info: DeviceInfo) {
    this.#call = call;
    this.portPath = info.portPath;
    this.vendorId = info.vendorId;
    this.productId = info.productId;
    this.enumeration = info.enumeration;
  }

  get opened(): boolean {
    return this.#opened;
  }

  /** Checks that the device is still the one looked up, then marks this handle open. */
  async open(): Promise<void> {
    if (this.#gone) throw this.#goneError();
    if (this.#opened) return;
    let info: Partial<DeviceInfo> | null;
    try {
      info = this.#check(await this.#send('GET', deviceResourcePath(this.portPath))) as Partial<DeviceInfo> | null;
    } catch (err: unknown) {
      if (err instanceof DOMException && err.name === 'NotFoundError') this.#gone = true;
      throw err;
    }
    if (info?.enumeration !== this.enumeration) {
      this.#gone = true;
      throw this.#goneError();
    }
    this.#inFlight = new AbortController();
    this.#opened = true;
  }

  async close(): Promise<void> {
    if (!this.#opened) return;
    this.#opened = false;
    this.#inFlight.abort();
    const claimed = [...this.#claimed];
    this.#claimed.clear();
    // Best effort: a device that has gone has nothing claimed any more.
    await Promise.allSettled(claimed.map((interfaceNumber) => this.#post('release', { interfaceNumber }, false)));
  }

  async controlTransferIn(setup: UsbControlSetup, length: number): Promise<UsbInTransferResult> {
    const answer = await this.#transfer('control', { direction: 'in', setup: setupOf(setup), length } satisfies ControlTransferRequest);
    return { status: answer.status, data: answer.data === undefined ? undefined : dataViewOf(fromBase64(answer.data)) };
  }

  async controlTransferOut(setup: UsbControlSetup, data?: BufferSource): Promise<UsbOutTransferResult> {
    const request: ControlTransferRequest = { direction: 'out', setup: setupOf(setup), ...(data === undefined ? {} : { data: toBase64(bytesOf(data)) }) };
    const answer = await this.#transfer('control', request);
    return { status: answer.status, bytesWritten: answer.bytesWritten ?? 0 };
  }

  async claimInterface(interfaceNumber: number): Promise<void> {
    this.#checkOpened();
    await this.#post('claim', { interfaceNumber }, false);
    this.#claimed.add(interfaceNumber);
  }

  async releaseInterface(interfaceNumber: number): Promise<void> {
    this.#checkOpened();
    await this.#post('release', { interfaceNumber }, false);
    this.#claimed.delete(interfaceNumber);
  }

  async transferIn(endpointNumber: number, length: number): Promise<UsbInTransferResult> {
    const answer = await this.#transfer('transfer', { direction: 'in', endpointNumber, length } satisfies EndpointTransferRequest);
    return { status: answer.status, data: answer.data === undefined ? undefined : dataViewOf(fromBase64(answer.data)) };
  }

  async transferOut(endpointNumber: number, data: BufferSource): Promise<UsbOutTransferResult> {
    const answer = await this.#transfer('transfer', { direction: 'out', endpointNumber, data: toBase64(bytesOf(data)) } satisfies EndpointTransferRequest);
    return { status: answer.status, bytesWritten: answer.bytesWritten ?? 0 };
  }

  /** A control or endpoint transfer: a long poll that waits for the device, ended by close(). */
  async #transfer(action: 'control' | 'transfer', body: ControlTransferRequest | EndpointTransferRequest): Promise<ControlTransferResponse> {
    this.#checkOpened();
    const answer = await this.#post(action, body, true);
    if (!isTransferResponse(answer)) throw new DOMException(`USB device ${this.portPath}: the virtual lab answered with no transfer status`, 'NetworkError');
    return answer;
  }

  async #post(action: DeviceAction, body: unknown, longPoll: boolean): Promise<unknown> {
    return this.#check(await this.#send('POST', deviceActionPath(this.portPath, action, this.enumeration), body, longPoll));
  }

  async #send(method: 'GET' | 'POST', path: string, body?: unknown, longPoll = false): Promise<LabControlAnswer> {
    try {
      return await this.#call(method, path, body, { longPoll, ...(method === 'POST' && longPoll ? { signal: this.#inFlight.signal } : {}) });
    } catch (err: unknown) {
      if (err instanceof LabControlUnreachable) throw new DOMException(`USB device ${this.portPath}: ${err.message}`, 'NetworkError');
      throw err;
    }
  }

  /** The body of a 2xx answer; the WebUSB-style error of any other. */
  #check(answer: LabControlAnswer): unknown {
    if (answer.statusCode >= 200 && answer.statusCode < 300) return answer.body;
    const { error, name } = errorBodyOf(answer);
    if (answer.statusCode === 410) {
      this.#gone = true;
      this.#opened = false;
      throw new DOMException(error, 'NotFoundError');
    }
    if (answer.statusCode === 400) throw new TypeError(error);
    throw new DOMException(error, name ?? (answer.statusCode === 404 ? 'NotFoundError' : 'NetworkError'));
  }

  #checkOpened(): void {
    if (this.#gone) throw this.#goneError();
    if (!this.#opened) throw new DOMException('The device must be opened first.', 'InvalidStateError');
  }

  #goneError(): DOMException {
    return new DOMException(`the USB device at ${this.portPath} has gone (detached or re-enumerated since it was looked up)`, 'NotFoundError');
  }
}
