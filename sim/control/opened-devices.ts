/**
 * The devices the control server has opened for its clients, one shared handle per port path and
 * enumeration. Each time a device leaves or arrives at a port path (a hot-plug event there) the path's
 * enumeration number moves on and the handle of the old enumeration is dropped: requests naming it
 * are answered 410 and its long polls end, because a WebUSB device object never outlives its
 * enumeration (a re-enumerated board is a new device).
 *
 * Clients share the handle, so a claim made by one is seen by the next: a client that ends without
 * releasing (a crashed `hil run`) does not lock the interface for everyone after it. IN transfers a
 * client stopped waiting for are kept for the next reader of that endpoint (abandoned-in-transfers.ts).
 */
import type { BenchDiscovery, UsbHotplugEvent } from '../../runner/bench/usb-discovery.ts';
import { AbandonedInTransfers } from '../../runner/usb/abandoned-in-transfers.ts';
import type { UsbInTransferResult } from '../../runner/usb/usb-control-device.ts';
import type { UsbTransferDevice } from '../../runner/usb/usb-transfer-device.ts';
import { Refusal } from './control-request.ts';
import { openUnlessGone } from './open-unless-gone.ts';

/** One opened device of one enumeration. */
export interface OpenedDevice {
  readonly portPath: string;
  readonly enumeration: number;
  readonly device: UsbTransferDevice;
  /** Aborts, with the {@link Refusal} to answer, when the device leaves or the server closes. */
  readonly ended: AbortSignal;
  readonly abandonedIns: AbandonedInTransfers<UsbInTransferResult>;
}

/** Why there is no opened device: nothing enumerated there, or not the enumeration asked for. */
export type NoDevice = 'absent' | 'gone';

interface Entry {
  enumeration: number;
  opening: Promise<OpenedDevice | null>;
  end: AbortController;
}

export class OpenedDevices {
  readonly #discovery: BenchDiscovery;
  readonly #enumerations = new Map<string, number>();
  readonly #entries = new Map<string, Entry>();
  readonly #unsubscribe: () => void;
  #closed = false;

  constructor(discovery: BenchDiscovery) {
    this.#discovery = discovery;
    this.#unsubscribe = discovery.onHotplug((event) => this.#onHotplug(event));
  }

  /** The enumeration number of `portPath` now (0 until a device leaves or arrives there). */
  enumeration(portPath: string): number {
    return this.#enumerations.get(portPath) ?? 0;
  }

  /**
   * The opened device at `portPath`: of enumeration `expected` when given (the one a client opened;
   * `gone` once the path has moved on or nothing is there any more), else of the current one (`absent`
   * when nothing is enumerated there).
   * @throws Refusal 503 once the server is closing; whatever opening the device threw.
   */
  async get(portPath: string, expected?: number): Promise<OpenedDevice | NoDevice> {
    const noDevice: NoDevice = expected === undefined ? 'absent' : 'gone';
    // A second round when the device went away while being opened: the path may hold a new one.
    for (let round = 0; round < 2; round++) {
      if (this.#closed) throw closing();
      const enumeration = this.enumeration(portPath);
      if (expected !== undefined && expected !== enumeration) return 'gone';
      let entry = this.#entries.get(portPath);
      if (entry === undefined || entry.enumeration !== enumeration) {
        if (entry !== undefined) this.#drop(portPath, entry);
        const end = new AbortController();
        entry = { enumeration, end, opening: this.#open(portPath, enumeration, end.signal) };
        this.#entries.set(portPath, entry);
      }
      let opened: OpenedDevice | null;
      try {
        opened = await entry.opening;
      } catch (err: unknown) {
        this.#drop(portPath, entry);
        throw err;
      }
      if (opened === null) {
        this.#drop(portPath, entry);
        return noDevice;
      }
      if (opened.device.opened && !opened.ended.aborted) return opened;
      this.#drop(portPath, entry);
    }
    return noDevice;
  }

  /** The device of `opened` has gone (it said so): forget it; the next {@link get} looks the path up again. */
  forget(opened: OpenedDevice): void {
    const entry = this.#entries.get(opened.portPath);
    if (entry !== undefined && entry.end.signal === opened.ended) this.#drop(opened.portPath, entry);
  }

  /** Ends every long poll with 503, closes every device opened here, stops listening. Idempotent. */
  async closeAll(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    for (const entry of entries) entry.end.abort(closing());
    await Promise.allSettled(entries.map(async (entry) => {
      const opened = await entry.opening;
      if (opened?.device.opened) await opened.device.close();
    }));
  }

  async #open(portPath: string, enumeration: number, ended: AbortSignal): Promise<OpenedDevice | null> {
    const device = await openUnlessGone(await this.#discovery.openDevice(portPath));
    if (device === null) return null;
    return { portPath, enumeration, device, ended, abandonedIns: new AbandonedInTransfers() };
  }

  #onHotplug(event: UsbHotplugEvent): void {
    const portPath = event.type === 'attach' ? event.device.portPath : event.portPath;
    this.#enumerations.set(portPath, this.enumeration(portPath) + 1);
    const entry = this.#entries.get(portPath);
    if (entry === undefined) return;
    this.#drop(portPath, entry, new Refusal(410, { error: `the USB device at ${portPath} has gone (${event.type === 'attach' ? 're-enumerated' : 'detached'})`, name: 'NotFoundError' }));
  }

  #drop(portPath: string, entry: Entry, reason?: Refusal): void {
    if (this.#entries.get(portPath) === entry) this.#entries.delete(portPath);
    entry.end.abort(reason ?? new Refusal(410, { error: `the USB device at ${portPath} has gone`, name: 'NotFoundError' }));
    void entry.opening.then((opened) => (opened?.device.opened ? opened.device.close() : undefined)).catch(() => undefined);
  }
}

function closing(): Refusal {
  return new Refusal(503, { error: 'the virtual lab is closing' });
}
