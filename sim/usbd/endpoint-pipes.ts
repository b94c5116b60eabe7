/**
 * The runtime device's bulk and interrupt endpoints as the bus sees them: at most one transfer the
 * firmware submitted per endpoint (`submit_xfer`), the STALL flags, and host transfers waiting for a
 * submission (on the wire the device NAKs until then). A host OUT delivers min(its length, the
 * buffer) and completes the submission; a host IN takes the submitted bytes — the rest stays queued
 * when the host asked for fewer in whole packets, and a packet that overruns the host's buffer is
 * babble.
 */
import type { UsbBusInResult, UsbBusOutResult } from '../usb/usb-port-device.ts';

/** An endpoint of the selected configuration. */
export interface PipeEndpoint {
  /** bEndpointAddress. */
  address: number;
  maxPacketSize: number;
}

/** What a finished submission tells the firmware (`xfer_cb`). */
export interface PipeCompletion {
  endpoint: number;
  length: number;
  /** OUT: the bytes received. */
  data?: Uint8Array;
}

type Submission = { direction: 'in'; data: Uint8Array; sent: number } | { direction: 'out'; capacity: number };

interface Waiter {
  serve(): boolean;
  stall(): void;
  fail(reason: unknown): void;
}

/** All pipes of one configured device. */
export class EndpointPipes {
  readonly #endpoints: ReadonlyMap<number, PipeEndpoint>;
  readonly #complete: (completion: PipeCompletion) => void;
  readonly #submissions = new Map<number, Submission>();
  readonly #stalled = new Set<number>();
  readonly #waiters = new Map<number, Waiter[]>();

  constructor(endpoints: readonly PipeEndpoint[], complete: (completion: PipeCompletion) => void) {
    this.#endpoints = new Map(endpoints.map((endpoint) => [endpoint.address, endpoint]));
    this.#complete = complete;
  }

  has(address: number): boolean {
    return this.#endpoints.has(address);
  }

  /**
   * The firmware queued a transfer: IN with `data`, OUT with a buffer of `length` bytes. False (and
   * nothing queued) for an endpoint the configuration lacks or one that already has a submission.
   */
  submit(address: number, data: Uint8Array | undefined, length: number | undefined): boolean {
    if (!this.#endpoints.has(address) || this.#submissions.has(address)) return false;
    const submission: Submission = (address & 0x80) !== 0
      ? { direction: 'in', data: (data ?? new Uint8Array(0)).slice(), sent: 0 }
      : { direction: 'out', capacity: Math.max(0, length ?? data?.length ?? 0) };
    this.#submissions.set(address, submission);
    this.#serveWaiters(address);
    return true;
  }

  /** Sets or clears STALL; stalling answers every waiting host transfer on it with a stall. */
  setStall(address: number, stall: boolean): void {
    if (!this.#endpoints.has(address)) return;
    if (!stall) {
      this.#stalled.delete(address);
      this.#serveWaiters(address);
      return;
    }
    this.#stalled.add(address);
    const waiters = this.#waiters.get(address) ?? [];
    this.#waiters.delete(address);
    for (const waiter of waiters) waiter.stall();
  }

  isStalled(address: number): boolean {
    return this.#stalled.has(address);
  }

  /** Host IN of up to `length` bytes; waits for a submission. */
  hostIn(address: number, length: number, signal: AbortSignal | undefined): Promise<UsbBusInResult> {
    return this.#wait<UsbBusInResult>(address, signal, (resolve) => {
      const submission = this.#submissions.get(address);
      if (submission?.direction !== 'in') return false;
      resolve(this.#takeIn(address, submission, length));
      return true;
    }, { status: 'stall', data: new Uint8Array(0) });
  }

  /** Host OUT of `data`; waits for a submission. */
  hostOut(address: number, data: Uint8Array, signal: AbortSignal | undefined): Promise<UsbBusOutResult> {
    return this.#wait<UsbBusOutResult>(address, signal, (resolve) => {
      const submission = this.#submissions.get(address);
      if (submission?.direction !== 'out') return false;
      this.#submissions.delete(address);
      const received = data.slice(0, Math.min(data.length, submission.capacity));
      resolve({ status: 'ok', bytesWritten: received.length });
      this.#complete({ endpoint: address, length: received.length, data: received });
      return true;
    }, { status: 'stall', bytesWritten: 0 });
  }

  /**
   * Ends everything (bus reset, configuration change, device gone): submissions are dropped without
   * completing, STALL flags cleared, waiting host transfers rejected with `reason`.
   */
  close(reason: unknown): void {
    this.#submissions.clear();
    this.#stalled.clear();
    const waiters = [...this.#waiters.values()].flat();
    this.#waiters.clear();
    for (const waiter of waiters) waiter.fail(reason);
  }

  #takeIn(address: number, submission: Extract<Submission, { direction: 'in' }>, length: number): UsbBusInResult {
    const remaining = submission.data.subarray(submission.sent);
    if (remaining.length <= length) {
      this.#submissions.delete(address);
      this.#complete({ endpoint: address, length: submission.data.length });
      return { status: 'ok', data: remaining.slice() };
    }
    const packetSize = this.#endpoints.get(address)?.maxPacketSize ?? 64;
    const wholePackets = Math.floor(length / packetSize) * packetSize;
    // Whole packets leave the rest for the next IN; a packet bigger than the space left is babble,
    // and the device, never acknowledged for it, sends it again.
    submission.sent += wholePackets;
    return { status: wholePackets === length ? 'ok' : 'babble', data: remaining.slice(0, length) };
  }

  #wait<R>(address: number, signal: AbortSignal | undefined, attempt: (resolve: (result: R) => void) => boolean, stalled: R): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(signal.reason);
        return;
      }
      if (this.#stalled.has(address)) {
        resolve(stalled);
        return;
      }
      if (attempt(resolve)) return;
      const onAbort = (): void => {
        this.#removeWaiter(address, waiter);
        reject(signal?.reason);
      };
      const settle = (): void => signal?.removeEventListener('abort', onAbort);
      const waiter: Waiter = {
        serve: () => {
          const served = attempt((result) => {
            settle();
            resolve(result);
          });
          return served;
        },
        stall: () => {
          settle();
          resolve(stalled);
        },
        fail: (reason) => {
          settle();
          reject(reason);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const queue = this.#waiters.get(address) ?? [];
      queue.push(waiter);
      this.#waiters.set(address, queue);
    });
  }

  #serveWaiters(address: number): void {
    const queue = this.#waiters.get(address);
    while (queue !== undefined && queue.length > 0 && !this.#stalled.has(address)) {
      if (!queue[0]!.serve()) break;
      queue.shift();
    }
    if (queue?.length === 0) this.#waiters.delete(address);
  }

  #removeWaiter(address: number, waiter: Waiter): void {
    const queue = this.#waiters.get(address);
    if (queue === undefined) return;
    const index = queue.indexOf(waiter);
    if (index >= 0) queue.splice(index, 1);
    if (queue.length === 0) this.#waiters.delete(address);
  }
}
