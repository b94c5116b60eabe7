/**
 * A hub of the virtual lab, in another process, as the runner's {@link UsbControlDevice}: each transfer
 * is one POST to the lab's control server. It behaves like a WebUSB `USBDevice` (and like the
 * in-process simulated hub): transfers need `open()` first (else an `InvalidStateError` DOMException),
 * a stall is a result, bad parameters reject with a TypeError, a hub that has gone rejects with a
 * `NotFoundError` DOMException, and an unreachable lab with a `NetworkError` one.
 */
import type { UsbControlDevice, UsbControlSetup, UsbInTransferResult, UsbOutTransferResult } from '../../runner/usb/usb-control-device.ts';
import { LabControlUnreachable, type LabControlAnswer, type LabControlRequestOptions } from './lab-control-http.ts';
import { bytesOf, fromBase64, hubControlPath, hubResourcePath, toBase64, type ControlTransferRequest, type ControlTransferResponse, type HubInfo } from './lab-control-wire.ts';
import { dataViewOf, errorBodyOf, isTransferResponse, setupOf } from './remote-answers.ts';

/** How the device reaches the server (the discovery's request path, which keeps events in order). */
export type LabControlCall = (method: 'GET' | 'POST', path: string, body?: unknown, options?: LabControlRequestOptions) => Promise<LabControlAnswer>;

export class RemoteHubDevice implements UsbControlDevice {
  readonly vendorId: number;
  readonly productId: number;
  /** The hub's port path. */
  readonly portPath: string;
  readonly #call: LabControlCall;
  #opened = false;

  constructor(call: LabControlCall, hub: HubInfo) {
    this.#call = call;
    this.portPath = hub.portPath;
    this.vendorId = hub.vendorId;
    this.productId = hub.productId;
  }

  get opened(): boolean {
    return this.#opened;
  }

  /** Checks that the hub is still there, then marks this handle open. */
  async open(): Promise<void> {
    this.#check(await this.#send('GET', hubResourcePath(this.portPath)));
    this.#opened = true;
  }

  async close(): Promise<void> {
    this.#opened = false;
  }

  async controlTransferIn(setup: UsbControlSetup, length: number): Promise<UsbInTransferResult> {
    const answer = await this.#transfer({ direction: 'in', setup: setupOf(setup), length });
    return { status: answer.status, data: answer.data === undefined ? undefined : dataViewOf(fromBase64(answer.data)) };
  }

  async controlTransferOut(setup: UsbControlSetup, data?: BufferSource): Promise<UsbOutTransferResult> {
    const request: ControlTransferRequest = { direction: 'out', setup: setupOf(setup), ...(data === undefined ? {} : { data: toBase64(bytesOf(data)) }) };
    const answer = await this.#transfer(request);
    return { status: answer.status, bytesWritten: answer.bytesWritten ?? 0 };
  }

  async #transfer(request: ControlTransferRequest): Promise<ControlTransferResponse> {
    if (!this.#opened) throw new DOMException('The device must be opened first.', 'InvalidStateError');
    const body = this.#check(await this.#send('POST', hubControlPath(this.portPath), request));
    if (!isTransferResponse(body)) throw new DOMException(`hub ${this.portPath}: the virtual lab answered with no transfer status`, 'NetworkError');
    return body;
  }

  async #send(method: 'GET' | 'POST', path: string, body?: unknown): Promise<LabControlAnswer> {
    try {
      return await this.#call(method, path, body);
    } catch (err: unknown) {
      if (err instanceof LabControlUnreachable) throw new DOMException(`hub ${this.portPath}: ${err.message}`, 'NetworkError');
      throw err;
    }
  }

  /** The body of a 2xx answer; the WebUSB-style error of any other. */
  #check(answer: LabControlAnswer): unknown {
    if (answer.statusCode >= 200 && answer.statusCode < 300) return answer.body;
    const { error, name } = errorBodyOf(answer);
    if (answer.statusCode === 404) {
      this.#opened = false;
      throw new DOMException(error, 'NotFoundError');
    }
    if (answer.statusCode === 400) throw new TypeError(error);
    throw new DOMException(error, name ?? 'NetworkError');
  }
}
