/**
 * A program's handle on a device the simulated host enumerated, behaving like WebUSB's `USBDevice`
 * (which is what the `usb` package gives on a physical bench): `open()` before anything else
 * (`InvalidStateError`), interfaces claimed before their endpoints are used or addressed, kernel-held
 * interfaces refused, a stall is a result and not an exception, and once the device is gone every call
 * and every pending transfer rejects with `NotFoundError`. `close()` aborts pending transfers
 * (`AbortError`) and releases the handle's claims.
 */
import type { UsbControlSetup, UsbInTransferResult, UsbOutTransferResult } from '../../runner/usb/usb-control-device.ts';
import { encodeSetupPacket } from '../../runner/usb/usb-control-device.ts';
import type { UsbTransferDevice } from '../../runner/usb/usb-transfer-device.ts';
import type { HostDeviceSession } from './host-device-session.ts';
import type { UsbBusInResult } from './usb-port-device.ts';

/** Standard request codes the host follows (USB 2.0 Table 9-4). */
const SET_CONFIGURATION = 0x09;
const SET_INTERFACE = 0x0b;

/** One handle (see the module note); each is opened, claims and closes on its own. */
export class HostTransferDevice implements UsbTransferDevice {
  readonly #session: HostDeviceSession;
  #opened = false;
  /** Aborted by `close()`, then replaced. */
  #closing = new AbortController();

  constructor(session: HostDeviceSession) {
    this.#session = session;
  }

  get vendorId(): number {
    return this.#session.device.vendorId;
  }

  get productId(): number {
    return this.#session.device.productId;
  }

  get opened(): boolean {
    return this.#opened && this.#session.present;
  }

  async open(): Promise<void> {
    this.#checkPresent();
    this.#opened = true;
  }

  async close(): Promise<void> {
    if (!this.#opened) return;
    this.#opened = false;
    for (const number of this.#session.claimedBy(this)) this.#session.release(number, this);
    this.#closing.abort(new DOMException('The transfer was cancelled: the device was closed.', 'AbortError'));
    this.#closing = new AbortController();
  }

  async claimInterface(interfaceNumber: number): Promise<void> {
    this.#checkUsable();
    this.#session.claim(interfaceNumber, this);
  }

  async releaseInterface(interfaceNumber: number): Promise<void> {
    this.#checkUsable();
    if (!this.#session.release(interfaceNumber, this)) {
      throw new DOMException(`Interface ${interfaceNumber} is not claimed by this handle.`, 'InvalidStateError');
    }
  }

  async controlTransferIn(setup: UsbControlSetup, length: number): Promise<UsbInTransferResult> {
    this.#checkUsable();
    if (!Number.isInteger(length) || length < 0 || length > 0xffff) throw new TypeError(`length must be an integer 0..65535, got ${length}`);
    this.#checkRecipient(setup);
    return inResult(await this.#session.bus.controlIn(encodeSetupPacket('in', setup, length), this.#signal()));
  }

  async controlTransferOut(setup: UsbControlSetup, data?: BufferSource): Promise<UsbOutTransferResult> {
    this.#checkUsable();
    this.#checkRecipient(setup);
    const bytes = bytesOf(data);
    if (bytes.length > 0xffff) throw new TypeError(`a control transfer carries at most 65535 bytes, got ${bytes.length}`);
    const result = await this.#session.bus.controlOut(encodeSetupPacket('out', setup, bytes.length), bytes, this.#signal());
    if (result.status === 'ok' && setup.requestType === 'standard') this.#followStandardRequest(setup);
    return { status: result.status, bytesWritten: result.bytesWritten };
  }

  async transferIn(endpointNumber: number, length: number): Promise<UsbInTransferResult> {
    this.#checkUsable();
    if (!Number.isInteger(length) || length < 0) throw new TypeError(`length must be a non-negative integer, got ${length}`);
    const address = this.#claimedEndpoint(endpointNumber, 0x80);
    return inResult(await this.#session.bus.transferIn(address, length, this.#signal()));
  }

  async transferOut(endpointNumber: number, data: BufferSource): Promise<UsbOutTransferResult> {
    this.#checkUsable();
    const address = this.#claimedEndpoint(endpointNumber, 0x00);
    const result = await this.#session.bus.transferOut(address, bytesOf(data), this.#signal());
    return { status: result.status, bytesWritten: result.bytesWritten };
  }

  /** The host keeps its view of the selected configuration and alternate settings. */
  #followStandardRequest(setup: UsbControlSetup): void {
    if (setup.recipient === 'device' && setup.request === SET_CONFIGURATION) this.#session.configurationSelected(setup.value & 0xff);
    if (setup.recipient === 'interface' && setup.request === SET_INTERFACE) this.#session.alternateSelected(setup.index & 0xff, setup.value);
  }

  /** WebUSB: requests to an interface or endpoint need that interface claimed by this handle. */
  #checkRecipient(setup: UsbControlSetup): void {
    if (setup.recipient === 'interface') {
      const number = setup.index & 0xff;
      if (!this.#session.holds(number, this)) throw new DOMException(`Interface ${number} must be claimed first.`, 'InvalidStateError');
    } else if (setup.recipient === 'endpoint') {
      const number = this.#session.interfaceOfEndpoint(setup.index & 0x8f);
      if (number === undefined || !this.#session.holds(number, this)) {
        throw new DOMException(`Endpoint 0x${(setup.index & 0x8f).toString(16)} is not part of a claimed interface.`, 'InvalidStateError');
      }
    }
  }

  #claimedEndpoint(endpointNumber: number, directionBit: number): number {
    if (!Number.isInteger(endpointNumber) || endpointNumber < 1 || endpointNumber > 15) {
      throw new TypeError(`endpoint number must be 1..15, got ${endpointNumber}`);
    }
    const address = endpointNumber | directionBit;
    const number = this.#session.interfaceOfEndpoint(address);
    if (number === undefined || !this.#session.holds(number, this)) {
      throw new DOMException('The specified endpoint is not part of a claimed and selected alternate interface.', 'NotFoundError');
    }
    return address;
  }

  #signal(): AbortSignal {
    return AbortSignal.any([this.#session.signal, this.#closing.signal]);
  }

  #checkPresent(): void {
    if (!this.#session.present) throw new DOMException('The device was disconnected.', 'NotFoundError');
  }

  #checkUsable(): void {
    this.#checkPresent();
    if (!this.#opened) throw new DOMException('The device must be opened first.', 'InvalidStateError');
  }
}

function inResult(result: UsbBusInResult): UsbInTransferResult {
  if (result.status === 'stall') return { status: 'stall', data: undefined };
  const copy = result.data.slice();
  return { status: result.status, data: new DataView(copy.buffer) };
}

function bytesOf(data: BufferSource | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  return new Uint8Array(data).slice();
}
