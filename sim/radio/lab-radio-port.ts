/**
 * A board's {@link BoardRadioPort} on the lab's {@link RadioMedium}: the board's Wi-Fi/ESP-NOW state
 * (set by its MicroPython host) applied to its interface on the medium, and frames delivered back.
 * It also takes the PHY settings ({@link RadioPhyControl}): each frame goes on air at the rate it was
 * sent with (a code without a known rate counts as ESP-NOW's default 1 Mbps), and long-range reception.
 * The medium knows a board by one MAC: the first of the addresses its active interfaces answer to
 * (STA before AP); a changed address re-attaches the board under the new MAC with the same state.
 */
import type { BoardRadioPort, RadioReception, RadioSendResult, RadioTransmission } from '../micropython/board-radio-port.ts';
import { transmissionPhyRate, type RadioPhyControl } from '../micropython/radio-phy-port.ts';
import { DEFAULT_PHY_RATE_MBPS } from './air-time.ts';
import { phyRateMbps } from './phy-rate.ts';
import type { RadioInterface, ReceivedFrame } from './radio-interface.ts';
import type { RadioMedium } from './radio-medium.ts';

export class LabRadioPort implements BoardRadioPort, RadioPhyControl {
  readonly #medium: RadioMedium;
  readonly #boardId: string;
  readonly #receivers = new Set<(frame: RadioReception) => void>();
  #iface: RadioInterface;
  #wifiActive = false;
  #channel = 1;
  #espNow = false;
  #longRange = false;
  #keys: { pmk: Uint8Array; peers: ReadonlyMap<string, Uint8Array | null> } | null = null;

  constructor(medium: RadioMedium, boardId: string, mac: Uint8Array) {
    this.#medium = medium;
    this.#boardId = boardId;
    this.#iface = medium.attach({ boardId, mac });
  }

  /** The board's interface on the medium (for tests and fault injection). */
  get radioInterface(): RadioInterface {
    return this.#iface;
  }

  setWifiActive(on: boolean): void {
    this.#wifiActive = on;
    this.#iface.setWifiActive(on);
  }

  setChannel(channel: number): void {
    this.#channel = channel;
    this.#iface.setChannel(channel);
  }

  setAddresses(addresses: readonly Uint8Array[]): void {
    const primary = addresses[0];
    if (primary === undefined || sameMac(primary, this.#iface.mac)) return;
    this.#iface.detach();
    this.#iface = this.#medium.attach({ boardId: this.#boardId, mac: primary });
    this.#apply();
  }

  setLongRange(on: boolean): void {
    this.#longRange = on;
    this.#iface.setLongRange(on);
  }

  setEspNowActive(on: boolean): void {
    this.#espNow = on;
    this.#iface.setEspNow(on ? this.#deliver : null);
  }

  setKeys(pmk: Uint8Array, peers: ReadonlyMap<string, Uint8Array | null>): void {
    this.#keys = { pmk, peers };
    this.#iface.setKeys({ pmk, peers: new Map([...peers].map(([mac, lmk]) => [mac, { lmk }])) });
  }

  /** The medium encrypts exactly when the key table holds an LMK for the destination (kept in step by setKeys). */
  async send(frame: RadioTransmission): Promise<RadioSendResult> {
    // The interface times (and the medium routes) a frame by the rate current when it is queued.
    this.#iface.setPhyRateMbps(phyRateMbps(transmissionPhyRate(frame)) ?? DEFAULT_PHY_RATE_MBPS);
    const outcome = await this.#iface.send({ dst: frame.dst, payload: frame.payload });
    return { acked: outcome.acked };
  }

  onReceive(receiver: (frame: RadioReception) => void): () => void {
    this.#receivers.add(receiver);
    return () => this.#receivers.delete(receiver);
  }

  /** Leaves the medium (lab shutdown). */
  detach(): void {
    this.#iface.detach();
  }

  readonly #deliver = (frame: ReceivedFrame): void => {
    const reception: RadioReception = { src: frame.src, payload: frame.payload, rssi: frame.rssiDbm };
    for (const receiver of this.#receivers) receiver(reception);
  };

  #apply(): void {
    this.#iface.setChannel(this.#channel);
    this.#iface.setWifiActive(this.#wifiActive);
    this.#iface.setLongRange(this.#longRange);
    if (this.#keys !== null) this.setKeys(this.#keys.pmk, this.#keys.peers);
    this.#iface.setEspNow(this.#espNow ? this.#deliver : null);
  }
}

function sameMac(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
