/**
 * The host thread's end of a board's radio, one per interpreter worker: it passes what the worker's
 * Wi-Fi / ESP-NOW stack reports (worker messages) on to the board's {@link BoardRadioPort}, and what
 * the medium answers back into shared memory — send results into the {@link RadioMailbox}, received
 * frames into the ESP-NOW receive ring — ringing the worker's doorbell so a blocked worker wakes.
 *
 * Frames go to the port with the sending interface's PHY rate ({@link RatedTransmission}); a port
 * with {@link RadioPhyControl} also learns whether the board is in long-range mode.
 *
 * Without a port the board transmits into the void: unicast frames are never acknowledged and
 * nothing is received.
 */
import type { BoardRadioPort, RadioReception, RadioSendResult } from './board-radio-port.ts';
import { RadioMailbox } from './radio-mailbox.ts';
import type { RadioSendMessage, RadioWifiMessage, RadioWorkerMessage } from './radio-messages.ts';
import { hasPhyControl, type RadioPhyControl, type RatedTransmission } from './radio-phy-port.ts';
import { RadioReceiveRing, wallClockMs } from './radio-receive-ring.ts';

/** ESP-NOW v1 payload limit: longer frames are dropped by the receiver. */
const MAX_PAYLOAD_BYTES = 250;
const KEY_BYTES = 16;

/** Broadcast and multicast addresses have the group bit (bit 0 of the first byte) set. */
export function isGroupAddress(mac: Uint8Array): boolean {
  return ((mac[0] ?? 0) & 1) === 1;
}

/** See the module note. */
export class RadioHostBridge {
  /** Counters shared with the worker (pass `mailbox.buffer` in the worker's init data). */
  readonly mailbox = RadioMailbox.create();
  readonly #port: BoardRadioPort | undefined;
  readonly #wake: () => void;
  readonly #unsubscribe: () => void;
  #ring: RadioReceiveRing | null = null;
  #wifi: RadioWifiMessage | null = null;
  #disposed = false;

  /**
   * @param port the board's side of the medium (optional)
   * @param wake rings the worker's doorbell
   */
  constructor(port: BoardRadioPort | undefined, wake: () => void) {
    this.#port = port;
    this.#wake = wake;
    this.#unsubscribe = port?.onReceive((frame) => this.#receive(frame)) ?? (() => {});
    this.#announceOff();
  }

  /** Handles one radio message of the worker. */
  handle(message: RadioWorkerMessage): void {
    if (this.#disposed) return;
    const port = this.#port;
    switch (message.type) {
      case 'radio-wifi':
        this.#updateWifi(message);
        break;
      case 'radio-espnow':
        this.#ring = message.active ? RadioReceiveRing.attach(message.ringBuffer) : null;
        port?.setEspNowActive(message.active);
        break;
      case 'radio-keys':
        port?.setKeys(message.pmk, new Map(message.peers));
        break;
      case 'radio-send':
        this.#transmit(message);
        break;
    }
  }

  /** The interpreter stopped: stop receiving and tell the medium the board's radio is off. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#ring = null;
    this.#unsubscribe();
    this.#announceOff();
  }

  #updateWifi(next: RadioWifiMessage): void {
    const port = this.#port;
    const previous = this.#wifi;
    this.#wifi = next;
    if (port === undefined) return;
    if (previous?.channel !== next.channel) port.setChannel(next.channel);
    if (previous === null || !sameAddresses(previous.addresses, next.addresses)) port.setAddresses(next.addresses);
    if (previous?.active !== next.active) port.setWifiActive(next.active);
    if (previous?.longRange !== next.longRange && hasPhyControl(port)) port.setLongRange(next.longRange);
  }

  #transmit(message: RadioSendMessage): void {
    const { src, dst, payload, encrypt, phyRate } = message;
    const group = isGroupAddress(dst);
    const answer = (acked: boolean): void => {
      if (this.#disposed) return;
      // ESP-NOW reports success for group destinations: nobody acknowledges them (§7.8).
      this.mailbox.recordResponse(group || acked);
      this.#wake();
    };
    if (this.#port === undefined) {
      answer(false);
      return;
    }
    let result: Promise<RadioSendResult>;
    try {
      const frame: RatedTransmission = { src, dst, payload, encrypt, phyRate };
      result = this.#port.send(frame);
    } catch {
      answer(false);
      return;
    }
    result.then(
      (sent) => answer(sent.acked),
      () => answer(false),
    );
  }

  #receive(frame: RadioReception): void {
    const ring = this.#ring;
    if (this.#disposed || ring === null || frame.payload.length === 0 || frame.payload.length > MAX_PAYLOAD_BYTES) return;
    this.mailbox.recordReception(ring.offer(frame.src, frame.payload, frame.rssi, wallClockMs()));
    this.#wake();
  }

  #announceOff(): void {
    const port = this.#port;
    if (port === undefined) return;
    port.setEspNowActive(false);
    port.setWifiActive(false);
    port.setAddresses([]);
    port.setKeys(new Uint8Array(KEY_BYTES), new Map());
    if (hasPhyControl(port)) port.setLongRange(false);
  }
}

function sameAddresses(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  return a.length === b.length && a.every((mac, i) => Buffer.from(mac).equals(b[i] ?? new Uint8Array()));
}
