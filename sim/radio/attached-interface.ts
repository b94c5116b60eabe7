/**
 * The medium's implementation of {@link RadioInterface}: plain per-board radio state plus the two calls
 * that need the medium (queueing a frame, leaving). Only `RadioMedium` creates these.
 */
import { DEFAULT_PHY_RATE_MBPS } from './air-time.ts';
import { copyKeys, noKeys, type EspNowKeys } from './espnow-keys.ts';
import { checkMac, macHex } from './mac-address.ts';
import { isLongRangeRate } from './phy-rate.ts';
import type { EspNowReceiver, RadioCounters, RadioInterface, RadioSendOutcome, RadioSendRequest } from './radio-interface.ts';

/** ESP-NOW v2's largest payload; v1 firmware limits itself to 250 on the board side. */
export const MAX_PAYLOAD_BYTES = 1470;

/** The calls an interface makes into its medium. */
export interface InterfaceHost {
  enqueue(sender: AttachedInterface, dst: Uint8Array, payload: Uint8Array): Promise<RadioSendOutcome>;
  detach(iface: AttachedInterface): void;
}

export class AttachedInterface implements RadioInterface {
  readonly boardId: string;
  readonly macHex: string;
  readonly #mac: Uint8Array;
  #wifiActive = false;
  #channel = 1;
  #phyRateMbps = DEFAULT_PHY_RATE_MBPS;
  #longRange = false;
  #receiver: EspNowReceiver | null = null;
  #keys: EspNowKeys = noKeys();
  #attached = true;
  /** Mutable counters; the medium increments them. */
  readonly stats: RadioCounters = { txFrames: 0, txAcked: 0, txFailed: 0, txAttempts: 0, rxDelivered: 0, rxRejected: 0 };

  constructor(
    boardId: string,
    mac: Uint8Array,
    private readonly host: InterfaceHost,
  ) {
    this.boardId = boardId;
    this.macHex = macHex(mac);
    this.#mac = mac.slice();
  }

  get mac(): Uint8Array {
    return this.#mac.slice();
  }
  get wifiActive(): boolean {
    return this.#wifiActive;
  }
  get channel(): number {
    return this.#channel;
  }
  get phyRateMbps(): number {
    return this.#phyRateMbps;
  }
  get longRange(): boolean {
    return this.#longRange;
  }
  get counters(): RadioCounters {
    return { ...this.stats };
  }
  /** The ESP-NOW hook, or null while ESP-NOW is inactive. */
  get receiver(): EspNowReceiver | null {
    return this.#receiver;
  }
  /** The current key table (the medium's own copy). */
  get keys(): EspNowKeys {
    return this.#keys;
  }
  /** False after `detach()`. */
  get attached(): boolean {
    return this.#attached;
  }
  /** On the air and listening on `channel`. */
  listensOn(channel: number): boolean {
    return this.#attached && this.#wifiActive && this.#channel === channel;
  }
  /** Listening on `channel` and able to demodulate frames sent at `rateMbps`. */
  hears(channel: number, rateMbps: number): boolean {
    return this.listensOn(channel) && (this.#longRange || !isLongRangeRate(rateMbps));
  }

  setWifiActive(active: boolean): void {
    this.#wifiActive = active;
  }

  setChannel(channel: number): void {
    if (!Number.isInteger(channel) || channel < 1 || channel > 14) throw new RangeError(`channel must be an integer 1–14, got ${channel}`);
    this.#channel = channel;
  }

  setPhyRateMbps(rateMbps: number): void {
    if (!(rateMbps > 0 && Number.isFinite(rateMbps))) throw new RangeError(`PHY rate must be a positive number of Mbps, got ${rateMbps}`);
    this.#phyRateMbps = rateMbps;
  }

  setLongRange(enabled: boolean): void {
    this.#longRange = enabled;
  }

  setEspNow(receiver: EspNowReceiver | null): void {
    this.#receiver = receiver;
  }

  setKeys(keys: EspNowKeys): void {
    this.#keys = copyKeys(keys);
  }

  send(request: RadioSendRequest): Promise<RadioSendOutcome> {
    checkMac(request.dst, 'dst');
    const { payload } = request;
    if (!(payload instanceof Uint8Array) || payload.length < 1 || payload.length > MAX_PAYLOAD_BYTES) {
      throw new RangeError(`payload must be 1–${MAX_PAYLOAD_BYTES} bytes, got ${payload instanceof Uint8Array ? payload.length : typeof payload}`);
    }
    return this.host.enqueue(this, request.dst.slice(), payload.slice());
  }

  detach(): void {
    if (!this.#attached) return;
    this.#attached = false;
    this.#receiver = null;
    this.host.detach(this);
  }
}
