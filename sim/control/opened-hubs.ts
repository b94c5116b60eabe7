/**
 * The hubs the control server has opened for its clients: each hub's control device is opened on
 * first use and kept open (clients open and close their remote handles on their own), and opened again
 * through discovery when it has gone away in between (a hub that was unplugged and came back).
 */
import type { BenchDiscovery } from '../../runner/bench/usb-discovery.ts';
import type { UsbControlDevice } from '../../runner/usb/usb-control-device.ts';
import { openUnlessGone } from './open-unless-gone.ts';

export class OpenedHubs {
  readonly #discovery: BenchDiscovery;
  readonly #devices = new Map<string, Promise<UsbControlDevice | null>>();

  constructor(discovery: BenchDiscovery) {
    this.#discovery = discovery;
  }

  /** The opened control device of the hub at `portPath`, or null when no hub is enumerated there. */
  async get(portPath: string): Promise<UsbControlDevice | null> {
    const cached = this.#devices.get(portPath);
    if (cached !== undefined) {
      const device = await cached;
      if (device?.opened) return device;
      this.#forgetIfSame(portPath, cached);
    }
    // Another request may have started reopening it meanwhile: share that.
    let pending = this.#devices.get(portPath);
    if (pending === undefined) {
      const opening = this.#open(portPath);
      pending = opening;
      this.#devices.set(portPath, opening);
      opening.then((device) => { if (device === null) this.#forgetIfSame(portPath, opening); }, () => this.#forgetIfSame(portPath, opening));
    }
    return pending;
  }

  /** Drops the device of `portPath` (its hub has gone); the next {@link get} looks the hub up again. */
  forget(portPath: string): void {
    this.#devices.delete(portPath);
  }

  /** Closes every device opened here. */
  async closeAll(): Promise<void> {
    const devices = [...this.#devices.values()];
    this.#devices.clear();
    await Promise.allSettled(devices.map(async (pending) => {
      const device = await pending;
      if (device?.opened) await device.close();
    }));
  }

  #forgetIfSame(portPath: string, pending: Promise<UsbControlDevice | null>): void {
    if (this.#devices.get(portPath) === pending) this.#devices.delete(portPath);
  }

  async #open(portPath: string): Promise<UsbControlDevice | null> {
    return openUnlessGone(await this.#discovery.openHub(portPath));
  }
}
