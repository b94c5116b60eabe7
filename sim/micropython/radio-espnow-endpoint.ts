/**
 * The worker's end of ESP-NOW: what the Python `_espnow` module needs below the firmware's API —
 * the receive buffer, frames handed to the host thread for transmission, the send/receive counters,
 * blocking waits and the receive-interrupt hook.
 *
 * Waits block in `Atomics.wait` on the input ring's doorbell, which the host thread rings for
 * serial input, keyboard interrupts, received frames and send results alike: a waiting board uses
 * no CPU, and Ctrl-C ends any wait. Python re-checks its condition after every wake.
 *
 * Counters follow ports/esp32/modespnow.c: they belong to the `ESPNow` singleton, which a soft reset
 * clears ({@link EspNowEndpoint.resetForSoftReboot}); `active(False)` keeps them but forgets
 * responses still outstanding.
 */
import type { InputRing } from './input-ring.ts';
import { WaitOutcome } from './board-runtime.ts';
import type { RadioCounters, RadioMailbox } from './radio-mailbox.ts';
import type { RadioWorkerMessage } from './radio-messages.ts';
import { RadioReceiveRing, type RingPacket } from './radio-receive-ring.ts';
import { DEFAULT_ESPNOW_PHY_RATE } from './radio-wifi-state.ts';

/** `ESPNow.stats()`: (tx_pkts, tx_responses, tx_failures, rx_packets, rx_dropped_packets). */
export interface EspNowStats {
  txPackets: number;
  txResponses: number;
  txFailures: number;
  rxPackets: number;
  rxDropped: number;
}

/** What {@link EspNowEndpoint} needs. */
export interface EspNowEndpointOptions {
  /** The board's input ring: its doorbell and keyboard interrupts end waits. */
  input: InputRing;
  mailbox: RadioMailbox;
  post(message: RadioWorkerMessage): void;
}

/**
 * Schedules the Python side's irq trampoline (`micropython.schedule`). It runs nested inside a
 * `_board_hw` call, so it must be straight-line Python: no jump means no VM check point, where a
 * pending KeyboardInterrupt or a scheduled callback would run inside the nested call and an exception
 * would escape to JavaScript. Throws when the schedule queue is full.
 */
export type IrqHandler = () => void;

/** See the module note. */
export class EspNowEndpoint {
  readonly #input: InputRing;
  readonly #mailbox: RadioMailbox;
  readonly #post: (message: RadioWorkerMessage) => void;
  #ring: RadioReceiveRing | null = null;
  /** Mailbox counters when the current singleton was created. */
  #baseline: RadioCounters;
  #txPackets = 0;
  #irqHandler: IrqHandler | null = null;
  /** Absolute `rxPackets` already counted into {@link #irqPending}. */
  #irqSeen = 0;
  /** Packets whose callback has not run yet. */
  #irqPending = 0;
  /** The trampoline is in the VM's schedule queue. */
  #irqScheduled = false;

  constructor(options: EspNowEndpointOptions) {
    this.#input = options.input;
    this.#mailbox = options.mailbox;
    this.#post = options.post;
    this.#baseline = this.#mailbox.counters();
  }

  isActive(): boolean {
    return this.#ring !== null;
  }

  /** `esp_now_init()` with a fresh receive buffer of `rxbufBytes`; no-op when already active. */
  init(rxbufBytes: number): void {
    if (this.#ring !== null) return;
    this.#ring = RadioReceiveRing.create(rxbufBytes);
    this.#post({ type: 'radio-espnow', active: true, ringBuffer: this.#ring.buffer });
  }

  /** `esp_now_deinit()`: drops the buffer and all peers; responses still outstanding are forgotten. */
  deinit(): void {
    if (this.#ring === null) return;
    this.#ring = null;
    this.setIrqHandler(null);
    this.#post({ type: 'radio-espnow', active: false });
    this.#post({ type: 'radio-keys', pmk: new Uint8Array(16), peers: [] });
    this.#txPackets = this.#relative().txResponses;
  }

  /** Soft reset: deinitialise and start the next singleton's counters from zero. */
  resetForSoftReboot(): void {
    this.deinit();
    this.setIrqHandler(null);
    this.#baseline = this.#mailbox.counters();
    this.#txPackets = 0;
  }

  /** Tells the medium the keys in use (after every peer or PMK change). */
  setKeys(pmk: Uint8Array, peers: [string, Uint8Array | null][]): void {
    this.#post({ type: 'radio-keys', pmk: pmk.slice(), peers });
  }

  /**
   * Hands one frame to the medium; its answer arrives in the mailbox.
   * @param phyRate the sending interface's `wifi_phy_rate_t`; default ESP-NOW's 1 Mbps (WIFI_PHY_RATE_1M_L)
   */
  send(src: Uint8Array, dst: Uint8Array, payload: Uint8Array, encrypt: boolean, phyRate = DEFAULT_ESPNOW_PHY_RATE): void {
    this.#txPackets++;
    this.#post({ type: 'radio-send', src, dst, payload, encrypt, phyRate });
  }

  stats(): EspNowStats {
    const counters = this.#relative();
    return { txPackets: this.#txPackets, ...counters };
  }

  /** Sent frames still waiting for their answer. */
  responsesPending(): boolean {
    return this.#relative().txResponses < this.#txPackets;
  }

  /** A packet is waiting in the receive buffer. */
  hasPacket(): boolean {
    return (this.#ring?.used() ?? 0) > 0;
  }

  /** Takes the oldest buffered packet, or null. */
  take(): RingPacket | null {
    return this.#ring?.take() ?? null;
  }

  /** Sets (or clears, with null) the receive-interrupt handler; packets received before are not reported. */
  setIrqHandler(handler: IrqHandler | null): void {
    this.#irqHandler = handler;
    this.#irqSeen = this.#mailbox.rxPackets();
    this.#irqPending = 0;
    this.#irqScheduled = false;
  }

  /**
   * Called at the VM's safe points: when packets arrived since the last call, schedules the Python
   * trampoline (once; it runs one callback per packet). True when it scheduled it now. Cheap enough
   * to run at every clock read of a busy loop (one atomic load when nothing arrived).
   */
  dispatchIrq(): boolean {
    const handler = this.#irqHandler;
    if (handler === null) return false;
    const received = this.#mailbox.rxPackets();
    const fresh = (received - this.#irqSeen) | 0;
    this.#irqSeen = received;
    if (fresh > 0) this.#irqPending += fresh;
    if (this.#irqPending === 0 || this.#irqScheduled) return false;
    try {
      handler();
    } catch {
      return false; // schedule queue full: the next safe point tries again
    }
    this.#irqScheduled = true;
    return true;
  }

  /** The trampoline runs: how many callbacks it owes (the count restarts from zero). */
  takeIrqCallbacks(): number {
    const owed = this.#irqPending;
    this.#irqPending = 0;
    this.#irqScheduled = false;
    return owed;
  }

  /**
   * Blocks until `ready()` holds (event), `timeoutMs` passes (timeout; negative or infinite =
   * never) or a keyboard interrupt arrives (interrupted). Zero CPU while waiting.
   * @param beforeBlock runs once before the first wait (flush console output, persist files)
   */
  waitUntil(ready: () => boolean, timeoutMs: number, beforeBlock: () => void): number {
    const forever = !Number.isFinite(timeoutMs) || timeoutMs < 0;
    const deadline = performance.now() + (forever ? 0 : timeoutMs);
    let blocked = false;
    for (;;) {
      if (this.#input.takeInterrupt()) return WaitOutcome.interrupted;
      if (ready()) return WaitOutcome.event;
      const remaining = deadline - performance.now();
      if (!forever && remaining <= 0) return WaitOutcome.timeout;
      const bell = this.#input.doorbell();
      if (ready()) return WaitOutcome.event;
      if (this.#input.takeInterrupt()) return WaitOutcome.interrupted;
      if (!blocked) beforeBlock();
      blocked = true;
      this.#input.waitDoorbell(bell, forever ? undefined : remaining);
    }
  }

  #relative(): RadioCounters {
    const now = this.#mailbox.counters();
    const base = this.#baseline;
    return {
      txResponses: (now.txResponses - base.txResponses) | 0,
      txFailures: (now.txFailures - base.txFailures) | 0,
      rxPackets: (now.rxPackets - base.rxPackets) | 0,
      rxDropped: (now.rxDropped - base.rxDropped) | 0,
    };
  }
}
