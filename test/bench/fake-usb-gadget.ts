/**
 * The device side of a fake USB board, shared by the two host-side fakes (FakeWebUsbDevice with WebUSB
 * behaviour, FakeHostUsbDevice with the `usb` package's): descriptors it answers GET_DESCRIPTOR from,
 * strings, vendor/class requests a test scripts, IN endpoint queues the test (or an OUT loopback)
 * fills, stalled endpoints, and unplugging.
 */
import type { UsbConfiguration } from '../../runner/usb/descriptors/configuration-tree.ts';
import { parseConfiguration } from '../../runner/usb/descriptors/parse-configuration.ts';
import { encodeLanguageIds, encodeStringDescriptor } from '../../runner/usb/descriptors/string-descriptors.ts';
import { listEndpoints, type LocatedEndpoint } from '../../runner/usb/descriptors/usb-numbering.ts';
import type { UsbControlSetup } from '../../runner/usb/usb-control-device.ts';

/** A scripted answer to a vendor/class request: bytes (IN), `ok` (OUT), `stall`, or a promise of one. */
export type FakeControlAnswer = Uint8Array | 'ok' | 'stall';
export type FakeControlHandler = (direction: 'in' | 'out', setup: UsbControlSetup, data: Uint8Array | undefined) =>
  FakeControlAnswer | Promise<FakeControlAnswer> | undefined;

export interface FakeUsbGadgetSpec {
  /** Device descriptor bytes as sent (may be malformed on purpose). */
  device: Uint8Array;
  /** Configuration 0 as sent, wTotalLength bytes (may be malformed on purpose). */
  configuration: Uint8Array;
  /** String index → text. Indexes not given stall. */
  strings?: Record<number, string>;
  /** LANGIDs of string 0; an empty list makes string 0 stall. Default [0x0409]. */
  languageIds?: number[];
  /** Bytes written to OUT endpoint N come back on IN endpoint N. Default true. */
  loopback?: boolean;
  /** Descriptor types (1 device, 2 configuration, 3 string) whose GET_DESCRIPTOR stalls. */
  stallDescriptorTypes?: number[];
  /** Requests other than standard GET_DESCRIPTOR; undefined (or no handler) stalls. */
  onControl?: FakeControlHandler;
}

/** A read waiting for data; `cancel` ends it with `reason`. */
export interface FakePendingRead {
  promise: Promise<Uint8Array>;
  cancel(reason: Error): void;
}

export class FakeUsbGadget {
  readonly spec: FakeUsbGadgetSpec;
  /** IN and OUT endpoint addresses that answer STALL. */
  readonly stalled = new Set<number>();
  /** Every OUT write: endpoint address and bytes. */
  readonly written: { address: number; data: Uint8Array }[] = [];
  readonly #queues = new Map<number, Uint8Array[]>();
  readonly #waiters = new Map<number, { length: number; resolve: (data: Uint8Array) => void }[]>();
  readonly #unplugListeners = new Set<() => void>();
  readonly #endpoints: LocatedEndpoint[];
  readonly #configuration: UsbConfiguration | null;
  #present = true;

  constructor(spec: FakeUsbGadgetSpec) {
    this.spec = spec;
    try {
      this.#configuration = parseConfiguration(spec.configuration);
    } catch {
      this.#configuration = null; // malformed on purpose: the device has no usable endpoints
    }
    this.#endpoints = this.#configuration === null ? [] : listEndpoints(this.#configuration);
  }

  get present(): boolean {
    return this.#present;
  }

  /** Interface numbers the configuration describes. */
  get interfaceNumbers(): number[] {
    return this.#configuration?.interfaces.map((itf) => itf.number) ?? [];
  }

  /** The endpoint with `address` (bit 7 = IN), or undefined. */
  endpoint(address: number): LocatedEndpoint | undefined {
    return this.#endpoints.find((located) => located.endpoint.address === address);
  }

  /** The device's answer to a control request (not cut to any length). */
  async answerControl(direction: 'in' | 'out', setup: UsbControlSetup, data?: Uint8Array): Promise<{ status: 'ok'; data: Uint8Array } | { status: 'stall' }> {
    if (direction === 'in' && setup.requestType === 'standard' && setup.recipient === 'device' && setup.request === 6) {
      const bytes = this.#descriptor(setup.value >> 8, setup.value & 0xff);
      return bytes === null ? { status: 'stall' } : { status: 'ok', data: bytes };
    }
    const answer = await this.spec.onControl?.(direction, setup, data);
    if (answer === undefined || answer === 'stall') return { status: 'stall' };
    return { status: 'ok', data: answer === 'ok' ? new Uint8Array(0) : answer };
  }

  /** The device sends `data` on IN endpoint `address` (one transfer's worth). */
  send(address: number, data: Uint8Array): void {
    const waiting = this.#waiters.get(address)?.shift();
    if (waiting !== undefined) {
      waiting.resolve(data.slice(0, waiting.length));
      return;
    }
    const queue = this.#queues.get(address) ?? [];
    queue.push(data.slice());
    this.#queues.set(address, queue);
  }

  /** The host wrote `data` to OUT endpoint `address`. */
  receive(address: number, data: Uint8Array): void {
    this.written.push({ address, data: data.slice() });
    if (this.spec.loopback ?? true) this.send(address | 0x80, data);
  }

  /** A host read of up to `length` bytes from IN endpoint `address`: queued data at once, else when sent. */
  read(address: number, length: number): FakePendingRead {
    const queued = this.#queues.get(address)?.shift();
    if (queued !== undefined) return { promise: Promise.resolve(queued.slice(0, length)), cancel: () => {} };
    let reject: (reason: Error) => void = () => {};
    const waiter = { length, resolve: (_: Uint8Array): void => {} };
    const promise = new Promise<Uint8Array>((resolve, rejectPromise) => {
      waiter.resolve = resolve;
      reject = rejectPromise;
    });
    const waiters = this.#waiters.get(address) ?? [];
    waiters.push(waiter);
    this.#waiters.set(address, waiters);
    return {
      promise,
      cancel: (reason) => {
        const list = this.#waiters.get(address);
        const at = list?.indexOf(waiter) ?? -1;
        if (at >= 0) list!.splice(at, 1);
        reject(reason);
      },
    };
  }

  /** How many host reads wait on `address`. */
  waitingReads(address: number): number {
    return this.#waiters.get(address)?.length ?? 0;
  }

  /** Called once when the device is unplugged. Returns unsubscribe. */
  onUnplug(listener: () => void): () => void {
    this.#unplugListeners.add(listener);
    return () => this.#unplugListeners.delete(listener);
  }

  /** The device leaves the bus: the host sides end what is pending. */
  unplug(): void {
    if (!this.#present) return;
    this.#present = false;
    for (const listener of [...this.#unplugListeners]) listener();
  }

  #descriptor(type: number, index: number): Uint8Array | null {
    if (this.spec.stallDescriptorTypes?.includes(type)) return null;
    if (type === 0x01) return this.spec.device;
    if (type === 0x02) return index === 0 ? this.spec.configuration : null;
    if (type !== 0x03) return null;
    if (index === 0) {
      const languages = this.spec.languageIds ?? [0x0409];
      return languages.length === 0 ? null : encodeLanguageIds(languages);
    }
    const text = this.spec.strings?.[index];
    return text === undefined ? null : encodeStringDescriptor(text);
  }
}
