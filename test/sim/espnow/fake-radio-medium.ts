/**
 * An in-memory radio medium for tests: connects any number of {@link BoardRadioPort}s with the
 * rules the port's contract states — unicast acknowledged when the destination's radio is on, on the
 * sender's channel, at one of its addresses; broadcast/multicast fanned out to every board on the
 * channel; delivery only to boards with ESP-NOW active; encrypted frames only to receivers that
 * registered the sender with the same LMK and share the sender's PMK; frames at a long-range rate
 * only to boards in long-range mode ({@link RadioPhyControl}).
 */
import type { BoardRadioPort, RadioReception, RadioSendResult, RadioTransmission } from '../../../sim/micropython/board-radio-port.ts';
import { transmissionPhyRate, type RadioPhyControl } from '../../../sim/micropython/radio-phy-port.ts';
import { isLongRangeRate, phyRateMbps } from '../../../sim/radio/phy-rate.ts';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(b);

/** One board's port, with its state readable by tests. */
export class FakeRadioPort implements BoardRadioPort, RadioPhyControl {
  wifiActive = false;
  longRange = false;
  channel = 1;
  addresses: Uint8Array[] = [];
  espNowActive = false;
  pmk = new Uint8Array(16);
  peers: ReadonlyMap<string, Uint8Array | null> = new Map();
  readonly #medium: FakeRadioMedium;
  readonly #receivers = new Set<(frame: RadioReception) => void>();

  constructor(medium: FakeRadioMedium) {
    this.#medium = medium;
  }

  setWifiActive(on: boolean): void {
    this.wifiActive = on;
  }

  setChannel(channel: number): void {
    this.channel = channel;
  }

  setAddresses(addresses: readonly Uint8Array[]): void {
    this.addresses = addresses.map((mac) => mac.slice());
  }

  setEspNowActive(on: boolean): void {
    this.espNowActive = on;
  }

  setLongRange(on: boolean): void {
    this.longRange = on;
  }

  setKeys(pmk: Uint8Array, peers: ReadonlyMap<string, Uint8Array | null>): void {
    this.pmk = pmk.slice();
    this.peers = new Map(peers);
  }

  send(frame: RadioTransmission): Promise<RadioSendResult> {
    return this.#medium.transmit(this, frame);
  }

  onReceive(receiver: (frame: RadioReception) => void): () => void {
    this.#receivers.add(receiver);
    return () => this.#receivers.delete(receiver);
  }

  /** Number of registered receivers (1 while the board's interpreter runs). */
  get receiverCount(): number {
    return this.#receivers.size;
  }

  deliver(frame: RadioReception): void {
    for (const receiver of this.#receivers) receiver(frame);
  }
}

/** See the module note. */
export class FakeRadioMedium {
  /** RSSI every reception reports, dBm. */
  rssi = -42;
  /** When true, transmissions are never answered (the send callback never comes). */
  silent = false;
  /** Every transmission, in order. */
  readonly transmissions: RadioTransmission[] = [];
  readonly #ports: FakeRadioPort[] = [];

  createPort(): FakeRadioPort {
    const port = new FakeRadioPort(this);
    this.#ports.push(port);
    return port;
  }

  transmit(sender: FakeRadioPort, frame: RadioTransmission): Promise<RadioSendResult> {
    this.transmissions.push(frame);
    if (this.silent) return new Promise<RadioSendResult>(() => {});
    const group = ((frame.dst[0] ?? 0) & 1) === 1;
    const longRange = isLongRangeRate(phyRateMbps(transmissionPhyRate(frame)) ?? 1);
    let acked = false;
    for (const port of this.#ports) {
      if (port === sender || !sender.wifiActive || !port.wifiActive || port.channel !== sender.channel) continue;
      if (longRange && !port.longRange) continue;
      if (!group && !port.addresses.some((mac) => same(mac, frame.dst))) continue;
      if (!group) acked = true;
      if (!port.espNowActive || (frame.encrypt && !this.#keysMatch(sender, port, frame))) continue;
      port.deliver({ src: frame.src.slice(), payload: frame.payload.slice(), rssi: this.rssi });
    }
    return Promise.resolve({ acked });
  }

  #keysMatch(sender: FakeRadioPort, receiver: FakeRadioPort, frame: RadioTransmission): boolean {
    const sent = sender.peers.get(hex(frame.dst));
    const expected = receiver.peers.get(hex(frame.src));
    return sent != null && expected != null && same(sent, expected) && same(sender.pmk, receiver.pmk);
  }
}
