/**
 * A {@link UsbTransferDevice} that behaves as the WebUSB specification says (and as the virtual lab's
 * devices do): calls need `open()` (else `InvalidStateError`), an unknown interface or endpoint is a
 * `NotFoundError`, endpoints and interface requests need their interface claimed (`InvalidStateError`),
 * a stall is a status, an IN transfer waits until the device sends, close() and releaseInterface()
 * end pending transfers with `AbortError`, and an unplugged device rejects everything with
 * `NotFoundError` and reports `opened` false. Validates arguments like the real thing (TypeError).
 */
import { encodeSetupPacket, type UsbControlSetup, type UsbInTransferResult, type UsbOutTransferResult } from '../../runner/usb/usb-control-device.ts';
import type { UsbTransferDevice } from '../../runner/usb/usb-transfer-device.ts';
import type { FakePendingRead, FakeUsbGadget } from './fake-usb-gadget.ts';

export class FakeWebUsbDevice implements UsbTransferDevice {
  readonly gadget: FakeUsbGadget;
  readonly vendorId: number;
  readonly productId: number;
  readonly #claimed = new Set<number>();
  readonly #pending = new Set<{ interfaceNumber: number; read: FakePendingRead }>();
  #opened = false;
  /** Calls made, in order: `open`, `claimInterface(2)`, `transferIn(3)`, control transfers as their setup bytes (`controlTransferIn(80 06 00 01 00 00 12 00)`). */
  readonly calls: string[] = [];

  constructor(gadget: FakeUsbGadget) {
    this.gadget = gadget;
    const bytes = gadget.spec.device;
    this.vendorId = bytes.length >= 10 ? bytes[8]! | (bytes[9]! << 8) : 0;
    this.productId = bytes.length >= 12 ? bytes[10]! | (bytes[11]! << 8) : 0;
    gadget.onUnplug(() => this.#endPending(new DOMException('The device was disconnected.', 'NotFoundError')));
  }

  get opened(): boolean {
    return this.#opened && this.gadget.present;
  }

  async open(): Promise<void> {
    this.calls.push('open');
    this.#checkPresent();
    this.#opened = true;
  }

  async close(): Promise<void> {
    this.calls.push('close');
    this.#endPending(new DOMException('The transfer was cancelled.', 'AbortError'));
    this.#claimed.clear();
    this.#opened = false;
  }

  async controlTransferIn(setup: UsbControlSetup, length: number): Promise<UsbInTransferResult> {
    this.calls.push(`controlTransferIn(${hex(encodeSetupPacket('in', setup, length))})`);
    this.#checkUsable();
    if (!Number.isInteger(length) || length < 0 || length > 0xffff) throw new TypeError(`length must be an integer 0..65535, got ${length}`);
    this.#checkInterfaceRecipient(setup);
    const answer = await this.gadget.answerControl('in', setup);
    if (answer.status === 'stall') return { status: 'stall', data: undefined };
    const data = answer.data.slice(0, length);
    return { status: 'ok', data: new DataView(data.buffer) };
  }

  async controlTransferOut(setup: UsbControlSetup, data?: BufferSource): Promise<UsbOutTransferResult> {
    const bytes = data === undefined ? new Uint8Array(0) : bytesOf(data);
    this.calls.push(`controlTransferOut(${hex(encodeSetupPacket('out', setup, bytes.length))})`);
    this.#checkUsable();
    this.#checkInterfaceRecipient(setup);
    const answer = await this.gadget.answerControl('out', setup, bytes);
    return answer.status === 'stall' ? { status: 'stall', bytesWritten: 0 } : { status: 'ok', bytesWritten: bytes.length };
  }

  async claimInterface(interfaceNumber: number): Promise<void> {
    this.calls.push(`claimInterface(${interfaceNumber})`);
    this.#checkUsable();
    if (!this.gadget.interfaceNumbers.includes(interfaceNumber)) throw new DOMException(`The interface number provided is not supported by the device in its current configuration.`, 'NotFoundError');
    this.#claimed.add(interfaceNumber);
  }

  async releaseInterface(interfaceNumber: number): Promise<void> {
    this.calls.push(`releaseInterface(${interfaceNumber})`);
    this.#checkUsable();
    if (!this.gadget.interfaceNumbers.includes(interfaceNumber)) throw new DOMException(`The interface number provided is not supported by the device in its current configuration.`, 'NotFoundError');
    this.#claimed.delete(interfaceNumber);
    this.#endPending(new DOMException('The transfer was cancelled.', 'AbortError'), interfaceNumber);
  }

  async transferIn(endpointNumber: number, length: number): Promise<UsbInTransferResult> {
    this.calls.push(`transferIn(${endpointNumber})`);
    const address = endpointNumber | 0x80;
    const interfaceNumber = this.#checkEndpoint(address, endpointNumber);
    if (!Number.isInteger(length) || length < 0) throw new TypeError(`length must be a non-negative integer, got ${length}`);
    if (this.gadget.stalled.has(address)) return { status: 'stall', data: undefined };
    const read = this.gadget.read(address, length);
    const entry = { interfaceNumber, read };
    this.#pending.add(entry);
    try {
      const data = await read.promise;
      return { status: 'ok', data: new DataView(data.buffer, data.byteOffset, data.byteLength) };
    } finally {
      this.#pending.delete(entry);
    }
  }

  async transferOut(endpointNumber: number, data: BufferSource): Promise<UsbOutTransferResult> {
    this.calls.push(`transferOut(${endpointNumber})`);
    this.#checkEndpoint(endpointNumber, endpointNumber);
    if (this.gadget.stalled.has(endpointNumber)) return { status: 'stall', bytesWritten: 0 };
    const bytes = bytesOf(data);
    this.gadget.receive(endpointNumber, bytes);
    return { status: 'ok', bytesWritten: bytes.length };
  }

  /** The interface of endpoint `address`, checked as WebUSB does. */
  #checkEndpoint(address: number, endpointNumber: number): number {
    this.#checkUsable();
    if (!Number.isInteger(endpointNumber) || endpointNumber < 1 || endpointNumber > 15) throw new TypeError(`endpoint number must be 1..15, got ${endpointNumber}`);
    const located = this.gadget.endpoint(address);
    if (located === undefined) throw new DOMException('The specified endpoint is not part of a claimed and selected alternate interface.', 'NotFoundError');
    if (!this.#claimed.has(located.interfaceNumber)) throw new DOMException('The specified endpoint number is not part of a claimed interface.', 'InvalidStateError');
    return located.interfaceNumber;
  }

  #checkInterfaceRecipient(setup: UsbControlSetup): void {
    if (setup.recipient === 'interface' && !this.#claimed.has(setup.index & 0xff)) {
      throw new DOMException(`The specified interface (${setup.index & 0xff}) has not been claimed.`, 'InvalidStateError');
    }
  }

  #checkPresent(): void {
    if (!this.gadget.present) throw new DOMException('The device was disconnected.', 'NotFoundError');
  }

  #checkUsable(): void {
    this.#checkPresent();
    if (!this.#opened) throw new DOMException('The device must be opened first.', 'InvalidStateError');
  }

  #endPending(reason: Error, interfaceNumber?: number): void {
    for (const entry of [...this.#pending]) {
      if (interfaceNumber !== undefined && entry.interfaceNumber !== interfaceNumber) continue;
      this.#pending.delete(entry);
      entry.read.cancel(reason);
    }
  }
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

function bytesOf(source: BufferSource): Uint8Array {
  return ArrayBuffer.isView(source) ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength) : new Uint8Array(source);
}
