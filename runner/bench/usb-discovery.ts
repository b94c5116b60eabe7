/**
 * Bench discovery: which USB devices are plugged in where, behind one interface for a physical host
 * (the `usb` package and the tty list) and the virtual lab (its simulated hubs). Identity is the port
 * path; tty names and USB serial strings are facts to report, never keys (DESIGN.md, layer 1).
 */
import type { UsbControlDevice } from '../usb/usb-control-device.ts';
import type { UsbTransferDevice } from '../usb/usb-transfer-device.ts';

/** One enumerated USB device, as the host sees it. */
export interface DiscoveredUsbDevice {
  /** Bus and hub-port chain, Linux style: `1-1.3`. */
  portPath: string;
  /** Address the host gave it at enumeration (changes on every enumeration). */
  address: number;
  vendorId: number;
  productId: number;
  manufacturer: string | null;
  product: string | null;
  serialNumber: string | null;
  /** USB class 9. */
  isHub: boolean;
  /**
   * The serial endpoint the host made for it: a tty path (`/dev/ttyACM0`), or for the virtual lab the
   * device's tty name and its RFC 2217 URL. Null when it has none (a hub, a device without CDC/bridge).
   */
  serial: { ttyPath: string; url: string } | null;
}

/** A listing, or why there is none. */
export interface DiscoverySnapshot {
  devices: DiscoveredUsbDevice[];
  /**
   * Set when the host cannot see USB at all (no `/sys/bus/usb`, no permission, a container): a sentence
   * for the user, e.g. "no USB bus visible: /sys/bus/usb/devices/ not found". `devices` is then empty.
   */
  problem?: string;
}

/** A device arrived (enumerated) or left (disconnected, powered off, re-enumerating). */
export type UsbHotplugEvent =
  | { type: 'attach'; atMs: number; device: DiscoveredUsbDevice }
  | { type: 'detach'; atMs: number; portPath: string }
  /**
   * A device connected but the host refused to enumerate it (a kernel's "can't set config" /
   * "device descriptor read" errors): malformed or inconsistent descriptors. `codes` are the
   * descriptor parser's fault or the validator's problem codes (runner/usb/descriptors/).
   */
  | { type: 'enumeration-failed'; atMs: number; portPath: string; reason: string; codes: string[] };

/** Discovery of one bench host's USB topology. */
export interface BenchDiscovery {
  /** What is enumerated now. Never throws for "no USB here": that is `problem`. */
  list(): Promise<DiscoverySnapshot>;
  /** Hot-plug events from now on. Returns unsubscribe. */
  onHotplug(listener: (event: UsbHotplugEvent) => void): () => void;
  /** The hub at `portPath` for class requests (port power), or null when no such hub is enumerated. */
  openHub(portPath: string): Promise<UsbControlDevice | null>;
  /**
   * The device at `portPath` for descriptor reads and transfers (the host-side USB view,
   * runner/usb/usb-device-view.ts), or null when nothing is enumerated there.
   */
  openDevice(portPath: string): Promise<UsbTransferDevice | null>;
  /** Stops watching. Idempotent. */
  close(): Promise<void>;
}
