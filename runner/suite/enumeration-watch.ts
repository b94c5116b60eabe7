/**
 * Follows hot-plug events for a set of port paths after their power came back, and tells when each has
 * a serial device that has stayed put for a settle time. A native-USB ESP32-S3 typically shows up
 * twice — USB-Serial-JTAG while the ROM boots, then MicroPython's TinyUSB CDC — so "enumerated" means
 * the last attach that was not followed by a detach within the settle time.
 */
import type { DiscoveredUsbDevice, UsbHotplugEvent } from '../bench/usb-discovery.ts';
import type { Clock } from '../repl/clock.ts';

interface PortState {
  device: DiscoveredUsbDevice | null;
  /** When the device at this path last changed (attach or detach), on the watcher's clock. */
  changedAtMs: number;
  attaches: number;
}

export interface EnumeratedPort {
  portPath: string;
  device: DiscoveredUsbDevice;
  /** From {@link EnumerationWatch.start} to the final attach. */
  enumerationMs: number;
  /** How many times a device attached at this path (2 for a board that changed identity while booting). */
  attaches: number;
}

export class EnumerationWatch {
  readonly #ports = new Map<string, PortState>();
  readonly #clock: Clock;
  #startedAtMs = 0;
  #wake: (() => void) | null = null;

  readonly #expected = new Map<string, string>();
  /** The last refused enumeration per port path (why the host could not use the device). */
  readonly #failures = new Map<string, string>();

  /** Why the host last refused to enumerate the device at `portPath`, if it did. */
  lastFailure(portPath: string): string | undefined {
    return this.#failures.get(portPath);
  }

  /** `expectedUsbIds`: port path → the `vvvv:pppp` the board ends up as; ports without one accept any serial device. */
  constructor(portPaths: readonly string[], clock: Clock, expectedUsbIds: ReadonlyMap<string, string> = new Map()) {
    this.#clock = clock;
    for (const path of portPaths) this.#ports.set(path, { device: null, changedAtMs: 0, attaches: 0 });
    for (const [path, id] of expectedUsbIds) this.#expected.set(path, id.toLowerCase());
  }

  /** What was last seen at `portPath` (for messages about a port that did not settle). */
  lastSeen(portPath: string): DiscoveredUsbDevice | null {
    return this.#ports.get(portPath)?.device ?? null;
  }

  #isFinal(path: string, device: DiscoveredUsbDevice | null): device is DiscoveredUsbDevice {
    if (device === null || device.serial === null) return false;
    const expected = this.#expected.get(path);
    return expected === undefined || expected === usbIdOf(device);
  }

  /** Forget what was seen so far and measure from now (call just before powering the ports on). */
  start(): void {
    this.#startedAtMs = this.#clock.now();
    for (const state of this.#ports.values()) Object.assign(state, { device: null, changedAtMs: this.#startedAtMs, attaches: 0 });
  }

  /** Feed from `BenchDiscovery.onHotplug`. */
  readonly onEvent = (event: UsbHotplugEvent): void => {
    // A refused enumeration changes nothing the host can use: whatever was there is already detached.
    if (event.type === 'enumeration-failed') {
      this.#failures.set(event.portPath, event.reason);
      this.#wake?.();
      return;
    }
    const path = event.type === 'attach' ? event.device.portPath : event.portPath;
    const state = this.#ports.get(path);
    if (state === undefined) return;
    state.device = event.type === 'attach' ? event.device : null;
    state.changedAtMs = this.#clock.now();
    if (event.type === 'attach') state.attaches++;
    this.#wake?.();
  };

  /** Port paths with a device attached right now (e.g. to check that a power-off took effect). */
  attachedPaths(): string[] {
    return [...this.#ports].filter(([, s]) => s.device !== null).map(([path]) => path);
  }

  /**
   * Waits until every port has a serial device unchanged for `settleMs`, or `deadlineMs` after
   * {@link start}. Returns the settled ports and the paths that are not (never attached, or still
   * changing, or attached without a serial endpoint).
   */
  async waitSettled(deadlineMs: number, settleMs: number, signal?: AbortSignal): Promise<{ settled: EnumeratedPort[]; missing: string[] }> {
    const deadline = this.#startedAtMs + deadlineMs;
    for (;;) {
      signal?.throwIfAborted();
      const now = this.#clock.now();
      const pending = [...this.#ports].filter(([path, s]) => !(this.#isFinal(path, s.device) && now - s.changedAtMs >= settleMs));
      if (pending.length === 0 || now >= deadline) {
        const settled = [...this.#ports].filter(([path]) => !pending.some(([p]) => p === path)).map(([portPath, s]) => ({
          portPath, device: s.device!, enumerationMs: s.changedAtMs - this.#startedAtMs, attaches: s.attaches,
        }));
        return { settled, missing: pending.map(([path]) => path) };
      }
      // Next moment something can change on its own: a settle time running out, or the deadline.
      const nextSettle = Math.min(...pending.filter(([path, s]) => this.#isFinal(path, s.device)).map(([, s]) => s.changedAtMs + settleMs));
      const waitMs = Math.max(1, Math.min(deadline, Number.isFinite(nextSettle) ? nextSettle : deadline) - now);
      await new Promise<void>((resolve) => {
        const cancel = this.#clock.setTimer(() => { this.#wake = null; resolve(); }, waitMs);
        this.#wake = () => { cancel(); this.#wake = null; resolve(); };
      });
    }
  }
}

/** `vvvv:pppp`, lowercase hex. */
export function usbIdOf(device: { vendorId: number; productId: number }): string {
  const hex = (n: number): string => n.toString(16).padStart(4, '0');
  return `${hex(device.vendorId)}:${hex(device.productId)}`;
}
