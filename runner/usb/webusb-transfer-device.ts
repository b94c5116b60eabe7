/**
 * A device from the `usb` package (3.1.0) as a {@link UsbTransferDevice} that behaves as WebUSB says,
 * so the host-side view (usb-device-view.ts) meets the same device on a physical bench as in the
 * virtual lab. The package departs from WebUSB in ways read from its source (webusb-library-faults.ts),
 * not yet seen on hardware:
 * - a STALL rejects instead of resolving with status `stall`;
 * - every transfer has a timeout (default 1000 ms), after which it rejects: a bulk IN that waits
 *   longer for data than that would fail, where WebUSB waits until the device sends;
 * - close() leaves interfaces claimed, and a transfer pending at close() goes on;
 * - controlTransferOut without data throws a TypeError (it reads `data.buffer`).
 */
import type { UsbControlSetup, UsbInTransferResult, UsbOutTransferResult } from './usb-control-device.ts';
import type { UsbTransferDevice } from './usb-transfer-device.ts';
import { translateLibraryError, webUsbError, webUsbLibraryFault } from './webusb-library-faults.ts';
import type { HostUsbDevice } from './webusb-source.ts';

export interface WebUsbTransferDeviceOptions {
  /**
   * The package's timeout for each control transfer, ms. Default 5000: what USB 2.0 §9.2.6.4 allows a
   * device for a request with a data stage (and what Linux waits).
   */
  controlTimeoutMs?: number;
  /**
   * Each bulk/interrupt IN is issued with this timeout and issued again when it runs out, until data
   * comes, its interface is released or the device is closed: WebUSB's "waits until the device sends".
   * Default 1000 (the package's own). A slice that ends just as a multi-packet transfer is under way
   * can lose those packets (nusb cancels the transfer), so this is not made short.
   */
  inSliceMs?: number;
  /** The package's timeout for a bulk/interrupt OUT, ms; after it the write rejects with `TimeoutError`. Default 10 000. */
  outTimeoutMs?: number;
}

export class WebUsbTransferDevice implements UsbTransferDevice {
  readonly #device: HostUsbDevice;
  readonly #controlTimeoutMs: number;
  readonly #inSliceMs: number;
  readonly #outTimeoutMs: number;
  readonly #claimed = new Set<number>();
  /** Rejects the IN transfers waiting now (close). */
  readonly #pendingIns = new Set<(err: Error) => void>();
  /** Bumped by every release and close: a pending IN whose endpoint disappears after one was cut off by it. */
  #releases = 0;

  constructor(device: HostUsbDevice, options: WebUsbTransferDeviceOptions = {}) {
    this.#device = device;
    this.#controlTimeoutMs = options.controlTimeoutMs ?? 5000;
    this.#inSliceMs = options.inSliceMs ?? 1000;
    this.#outTimeoutMs = options.outTimeoutMs ?? 10_000;
  }

  get vendorId(): number {
    return this.#device.vendorId;
  }

  get productId(): number {
    return this.#device.productId;
  }

  get opened(): boolean {
    return this.#device.opened;
  }

  async open(): Promise<void> {
    await this.#device.open().catch((err: unknown) => { throw translateLibraryError('open', err); });
  }

  /** As WebUSB: pending IN transfers reject with `AbortError`, claimed interfaces are released, then the device closes. */
  async close(): Promise<void> {
    this.#releases++;
    const aborted = webUsbError('AbortError', 'the transfer was cancelled: the device was closed');
    for (const reject of [...this.#pendingIns]) reject(aborted);
    for (const interfaceNumber of [...this.#claimed]) await this.releaseInterface(interfaceNumber).catch(() => undefined);
    await this.#device.close().catch((err: unknown) => { throw translateLibraryError('close', err); });
  }

  async controlTransferIn(setup: UsbControlSetup, length: number): Promise<UsbInTransferResult> {
    try {
      return await this.#device.controlTransferIn(setup, length, this.#controlTimeoutMs);
    } catch (err: unknown) {
      if (webUsbLibraryFault(err) === 'stall') return { status: 'stall', data: undefined };
      throw this.#controlError('controlTransferIn', err);
    }
  }

  async controlTransferOut(setup: UsbControlSetup, data?: BufferSource): Promise<UsbOutTransferResult> {
    try {
      return await this.#device.controlTransferOut(setup, data ?? new Uint8Array(0), this.#controlTimeoutMs);
    } catch (err: unknown) {
      if (webUsbLibraryFault(err) === 'stall') return { status: 'stall', bytesWritten: 0 };
      throw this.#controlError('controlTransferOut', err);
    }
  }

  async claimInterface(interfaceNumber: number): Promise<void> {
    try {
      await this.#device.claimInterface(interfaceNumber);
    } catch (err: unknown) {
      const translated = translateLibraryError(`claimInterface(${interfaceNumber})`, err);
      // WebUSB's words; on Linux the usual reason is a kernel driver (cdc_acm, usbhid) bound to it.
      if (translated.name !== 'NetworkError') throw translated;
      throw webUsbError('NetworkError', `Unable to claim interface ${interfaceNumber}: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.#claimed.add(interfaceNumber);
  }

  /** Releasing an interface that is not claimed does nothing, as in WebUSB. */
  async releaseInterface(interfaceNumber: number): Promise<void> {
    this.#releases++;
    this.#claimed.delete(interfaceNumber);
    try {
      await this.#device.releaseInterface(interfaceNumber);
    } catch (err: unknown) {
      if (webUsbLibraryFault(err) === 'not-claimed') return;
      throw translateLibraryError(`releaseInterface(${interfaceNumber})`, err);
    }
  }

  /** Waits until the device sends (in slices, see {@link WebUsbTransferDeviceOptions.inSliceMs}). */
  transferIn(endpointNumber: number, length: number): Promise<UsbInTransferResult> {
    return new Promise<UsbInTransferResult>((resolve, reject) => {
      let done = false;
      const finish = (settle: () => void): void => {
        if (done) return;
        done = true;
        this.#pendingIns.delete(abort);
        settle();
      };
      const abort = (err: Error): void => finish(() => reject(err));
      this.#pendingIns.add(abort);
      const releasesAtStart = this.#releases;
      const slice = (): void => {
        this.#device.transferIn(endpointNumber, length, this.#inSliceMs).then(
          (result) => finish(() => resolve(result)),
          (err: unknown) => {
            if (done) return;
            const fault = webUsbLibraryFault(err);
            if (fault === 'cancelled' && this.#device.opened) {
              slice();
            } else if (fault === 'stall') {
              finish(() => resolve({ status: 'stall', data: undefined }));
            } else if ((fault === 'endpoint-not-found' || fault === 'cancelled') && this.#releases !== releasesAtStart) {
              abort(webUsbError('AbortError', `transferIn(${endpointNumber}): the transfer was cancelled: its interface was released`));
            } else {
              abort(translateLibraryError(`transferIn(${endpointNumber})`, err));
            }
          },
        );
      };
      slice();
    });
  }

  async transferOut(endpointNumber: number, data: BufferSource): Promise<UsbOutTransferResult> {
    try {
      return await this.#device.transferOut(endpointNumber, data, this.#outTimeoutMs);
    } catch (err: unknown) {
      const fault = webUsbLibraryFault(err);
      if (fault === 'stall') return { status: 'stall', bytesWritten: 0 };
      if (fault === 'cancelled') {
        throw webUsbError('TimeoutError', `transferOut(${endpointNumber}): the device took none of the data within ${this.#outTimeoutMs} ms (the usb package cancels a transfer at its timeout)`);
      }
      throw translateLibraryError(`transferOut(${endpointNumber})`, err);
    }
  }

  #controlError(what: string, err: unknown): Error {
    if (webUsbLibraryFault(err) === 'cancelled') {
      return webUsbError('TimeoutError', `${what}: no answer within ${this.#controlTimeoutMs} ms (the usb package cancels a transfer at its timeout)`);
    }
    return translateLibraryError(what, err);
  }
}
