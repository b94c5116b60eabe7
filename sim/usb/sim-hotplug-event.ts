/**
 * Hot-plug events of the simulated USB host: the bench's attach/detach events plus a visible failure
 * when the host refuses a device's descriptors (a kernel's "can't set config" / "unable to enumerate
 * USB device"), which the bench-side union (runner/bench/usb-discovery.ts) does not carry yet.
 */
import type { UsbHotplugEvent } from '../../runner/bench/usb-discovery.ts';

/**
 * A device connected but the host would not enumerate it: no address kept, no tty, no attach event.
 * `reason` is for people; `codes` are stable values to branch on: the descriptor parser's fault
 * (`total-length-mismatch`, `wrong-type`, …) or the validator's problem codes (`duplicate-endpoint`, …).
 */
export interface UsbEnumerationFailedEvent {
  type: 'enumeration-failed';
  atMs: number;
  portPath: string;
  reason: string;
  codes: string[];
}

/** Everything a simulated hub reports. */
export type SimUsbHotplugEvent = UsbHotplugEvent | UsbEnumerationFailedEvent;

/**
 * Which event types the bench-side union knows, so the lab's {@link BenchDiscovery} forwards only
 * those. Once `UsbHotplugEvent` gains `enumeration-failed` this record stops compiling until the entry
 * is added (set it to true): that is the one place to change.
 */
const BENCH_EVENT_TYPES: Readonly<Record<UsbHotplugEvent['type'], true>> = { attach: true, detach: true, 'enumeration-failed': true };

/** The event as the bench knows it, or null when the bench-side union has no such member yet. */
export function benchEventOf(event: SimUsbHotplugEvent): UsbHotplugEvent | null {
  return isBenchEvent(event) ? event : null;
}

function isBenchEvent(event: SimUsbHotplugEvent): event is UsbHotplugEvent {
  return Object.hasOwn(BENCH_EVENT_TYPES, event.type);
}
