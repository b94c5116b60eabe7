/**
 * One board's 2.4 GHz radio as the board side (the simulated `network`/`espnow` modules) sees it: the
 * Wi-Fi interface state that decides whether the board is on the air at all, its channel and PHY rate,
 * ESP-NOW's receive hook and key table, and sending. Created by `RadioMedium.attach`.
 */
import type { EspNowKeys } from './espnow-keys.ts';

/** A frame handed to a board's ESP-NOW receiver. The receiver owns `src` and `payload`. */
export interface ReceivedFrame {
  /** Sender's MAC, 6 bytes. */
  src: Uint8Array;
  /** The message, 1–1470 bytes. */
  payload: Uint8Array;
  /** Signal strength at this board, whole dBm in −127…0. */
  rssiDbm: number;
  /** The medium clock's `now()` at delivery (the board maps it to its own `ticks_ms`). */
  atMs: number;
  /** The frame was CCMP-protected (and decrypted with matching keys). */
  wasEncrypted: boolean;
}

/**
 * Receives frames. Called synchronously, one frame at a time, in arrival order, so the board side can
 * copy each frame into its ring buffer (`rxbuf`) right away and count a drop when it does not fit —
 * the medium has already ACKed the frame, as a real radio has (§7.4 `stats()`). Must not throw (a throw
 * is logged and ignored).
 */
export type EspNowReceiver = (frame: ReceivedFrame) => void;

/** One send. */
export interface RadioSendRequest {
  /**
   * Destination MAC, 6 bytes. A group address (broadcast `ff:ff:ff:ff:ff:ff` or any multicast address)
   * reaches every listening board on the channel and is never acknowledged.
   */
  dst: Uint8Array;
  /**
   * The message, 1–1470 bytes (ESP-NOW v2's limit; the board side enforces its firmware's
   * `MAX_DATA_LEN`). Copied at the call. Whether it is encrypted follows the key table: a unicast
   * frame is CCMP-protected when this board holds an LMK for `dst`.
   */
  payload: Uint8Array;
}

/** What the sender's radio learns, i.e. what ESP-IDF's send callback reports. */
export interface RadioSendOutcome {
  /**
   * A MAC-layer ACK was received. Always false for group-addressed frames: the board side reports
   * those as sent (`send()` returns True for broadcast). Also false when nothing was sent because the
   * interface was inactive or detached when the frame's turn came (`attempts` = 0).
   */
  acked: boolean;
  /** Transmission attempts made: 1 + retries for unicast, 1 for group frames, 0 if nothing was sent. */
  attempts: number;
}

/** Per-interface counters since attach. */
export interface RadioCounters {
  /** Frames that went on air. */
  txFrames: number;
  /** Unicast frames that were acknowledged. */
  txAcked: number;
  /** Unicast frames that were not acknowledged after all attempts, plus sends that never went on air. */
  txFailed: number;
  /** Transmission attempts, retries included. */
  txAttempts: number;
  /** Frames handed to this board's ESP-NOW receiver. */
  rxDelivered: number;
  /** Frames this board's radio received but ESP-NOW did not pass up (inactive, or keys do not match). */
  rxRejected: number;
}

/** A board's radio on the medium. */
export interface RadioInterface {
  /** The board this radio belongs to. */
  readonly boardId: string;
  /** This radio's MAC, 6 bytes (a copy). */
  readonly mac: Uint8Array;
  /** Whether a Wi-Fi interface (STA or AP) is active. Default false. */
  readonly wifiActive: boolean;
  /** Current channel, 1–14. Default 1. */
  readonly channel: number;
  /** Current PHY rate for ESP-NOW frames, Mbps. Default 1. */
  readonly phyRateMbps: number;
  /** Whether the radio receives frames sent at Espressif's long-range rates. Default false. */
  readonly longRange: boolean;
  /** A snapshot of the counters. */
  readonly counters: RadioCounters;

  /**
   * Turns the Wi-Fi interface on or off. While on, the radio listens on its channel and ACKs unicast
   * frames addressed to it at the MAC layer — even when ESP-NOW is not active (§7.3). While off, it
   * neither hears nor sends.
   */
  setWifiActive(active: boolean): void;
  /**
   * Tunes to `channel` (1–14). Frames already queued keep the channel they were sent on.
   * @throws RangeError for anything but an integer 1–14.
   */
  setChannel(channel: number): void;
  /**
   * Sets the PHY rate for later frames (ESP-NOW `config(rate=…)`; the board side maps `RATE_*` to
   * Mbps: 1, 2, 5.5, 11, 6 … 54, 0.25, 0.5). Only the `'air-time'` model uses it.
   * @throws RangeError for a rate that is not a positive finite number.
   */
  setPhyRateMbps(rateMbps: number): void;
  /**
   * Enables or disables reception of long-range frames (0.25 and 0.5 Mbps; the board's Wi-Fi protocol
   * set includes `WLAN.PROTOCOL_LR`). A radio without it neither receives nor ACKs such frames, so a
   * unicast long-range send to it fails (ESP-IDF Wi-Fi guide, "Long Range (LR)"; MicroPython's
   * espnow documentation, "Long Range Mode": set on sender and receiver).
   */
  setLongRange(enabled: boolean): void;
  /**
   * Installs ESP-NOW's receive hook (ESP-NOW active) or removes it with null (inactive: frames are
   * still ACKed if Wi-Fi is active, but dropped).
   */
  setEspNow(receiver: EspNowReceiver | null): void;
  /**
   * Replaces the key table (PMK + registered peers' LMKs); call after every `set_pmk`, `add_peer`,
   * `mod_peer`, `del_peer` and on `active(False)`. The medium copies it.
   * @throws RangeError on a key that is not 16 bytes or a peer key that is not a `macHex` string.
   */
  setKeys(keys: EspNowKeys): void;
  /**
   * Queues a frame. It goes on air when the channel is free; the promise resolves when the sender's
   * radio knows the outcome: after the air time of all attempts, plus the link latency out and back
   * when acknowledged. With the `'instant'` time model and zero latency, everything happens on a
   * microtask after the call (no timers). Never rejects.
   * @throws RangeError for a `dst` that is not 6 bytes or a payload outside 1–1470 bytes.
   */
  send(request: RadioSendRequest): Promise<RadioSendOutcome>;
  /** Leaves the medium: queued frames of this radio report `{ acked: false, attempts: 0 }`. Idempotent. */
  detach(): void;
}
