/** Shared set-up for the radio medium tests: a medium on a manual clock and boards with inboxes. */
import { FakeClock } from '../usb/usb-fakes.ts';
import { RadioMedium, type RadioMediumOptions } from '../../../sim/radio/radio-medium.ts';
import { parseMac } from '../../../sim/radio/mac-address.ts';
import type { RadioInterface, ReceivedFrame } from '../../../sim/radio/radio-interface.ts';

export { FakeClock };

/** A board on the medium with everything it received. */
export interface TestBoard {
  radio: RadioInterface;
  inbox: ReceivedFrame[];
}

/** A medium on a fake clock; `'instant'` time unless the options say otherwise. */
export function makeMedium(options: RadioMediumOptions = {}): { medium: RadioMedium; clock: FakeClock } {
  const clock = new FakeClock();
  return { medium: new RadioMedium({ clock, timeModel: 'instant', ...options }), clock };
}

/** MAC `02:00:00:00:00:nn` (locally administered, unicast). */
export function testMac(n: number): Uint8Array {
  return parseMac(`02:00:00:00:00:${n.toString(16).padStart(2, '0')}`);
}

/** Attaches board `id` with MAC {@link testMac}(n), Wi-Fi active and ESP-NOW collecting into `inbox`. */
export function addBoard(medium: RadioMedium, id: string, n: number): TestBoard {
  const radio = medium.attach({ boardId: id, mac: testMac(n) });
  const inbox: ReceivedFrame[] = [];
  radio.setWifiActive(true);
  radio.setEspNow((frame) => inbox.push(frame));
  return { radio, inbox };
}

/** Lets every queued microtask (and promise continuation) run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** `text` as bytes. */
export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Received payloads as text. */
export function texts(inbox: ReceivedFrame[]): string[] {
  return inbox.map((frame) => new TextDecoder().decode(frame.payload));
}
