/**
 * Bench discovery over the virtual lab's simulated hubs, in process: the same {@link BenchDiscovery}
 * the runner uses on a physical host, so the runner cannot tell (and need not know) it is simulated.
 */
import type { BenchDiscovery, DiscoverySnapshot, UsbHotplugEvent } from '../../runner/bench/usb-discovery.ts';
import type { UsbControlDevice } from '../../runner/usb/usb-control-device.ts';
import type { UsbTransferDevice } from '../../runner/usb/usb-transfer-device.ts';
import { benchEventOf, type SimUsbHotplugEvent } from './sim-hotplug-event.ts';
import type { SimUsbHub } from './sim-usb-hub.ts';

/**
 * Discovery of the devices on a lab's hubs. One instance is shared by everyone using the lab, so
 * {@link close} ends the subscriptions made so far but leaves the instance usable for the next user.
 */
export class LabDiscovery implements BenchDiscovery {
  readonly #hubs: readonly SimUsbHub[];
  readonly #unsubscribes = new Set<() => void>();

  constructor(hubs: readonly SimUsbHub[]) {
    this.#hubs = hubs;
  }

  /** Every hub and every enumerated device on it, hubs in the order given. */
  async list(): Promise<DiscoverySnapshot> {
    return { devices: this.#hubs.flatMap((hub) => hub.list()) };
  }

  /**
   * Events of all hubs that the bench's event type knows, in the order they happen. Returns
   * unsubscribe. (`enumeration-failed` reaches bench listeners once the bench union carries it; see
   * sim-hotplug-event.ts. {@link onLabHotplug} has every event.)
   */
  onHotplug(listener: (event: UsbHotplugEvent) => void): () => void {
    return this.onLabHotplug((event) => {
      const benchEvent = benchEventOf(event);
      if (benchEvent !== null) listener(benchEvent);
    });
  }

  /** Every event of all hubs, `enumeration-failed` included, in the order they happen. Returns unsubscribe. */
  onLabHotplug(listener: (event: SimUsbHotplugEvent) => void): () => void {
    const unsubscribes = this.#hubs.map((hub) => hub.onHotplug(listener));
    const unsubscribe = (): void => {
      for (const off of unsubscribes) off();
      this.#unsubscribes.delete(unsubscribe);
    };
    this.#unsubscribes.add(unsubscribe);
    return unsubscribe;
  }

  /** The control device of the hub at `portPath`, or null when the lab has no such hub. */
  async openHub(portPath: string): Promise<UsbControlDevice | null> {
    const hub = this.#hubs.find((candidate) => candidate.portPath === portPath);
    return hub === undefined || !hub.present ? null : hub.controlDevice();
  }

  /**
   * A handle on the device enumerated at `portPath` for descriptor reads and transfers, or null when
   * nothing is enumerated there or the device presents no descriptors (UART bridges and the ROM's
   * USB-Serial-JTAG are modelled by their identity only).
   */
  async openDevice(portPath: string): Promise<UsbTransferDevice | null> {
    for (const hub of this.#hubs) {
      const device = hub.openDevice(portPath);
      if (device !== null) return device;
    }
    return null;
  }

  /** Drops every hot-plug subscription made so far. Idempotent. */
  async close(): Promise<void> {
    for (const unsubscribe of [...this.#unsubscribes]) unsubscribe();
  }
}
