/**
 * The 2.4 GHz medium that the boards of one virtual lab share for ESP-NOW (one per `SimLab`; no
 * module-level state). Boards attach a {@link RadioInterface}; the medium carries their frames.
 *
 * Delivery rules:
 * - Unicast reaches only the attached radio with that MAC whose Wi-Fi is active on the frame's channel
 *   (and, for a frame sent at a long-range rate, that has long-range mode enabled).
 *   That radio ACKs at the MAC layer even when its ESP-NOW is inactive or cannot decrypt the frame; its
 *   ESP-NOW passes the frame up only when active and the keys match (rules in `espnow-keys.ts`). Lost
 *   data or ACKs are retried (`unicast-exchange.ts`); the sender learns `acked` after the last attempt.
 * - Broadcast/multicast reaches every radio with Wi-Fi active on the channel (long-range mode enabled
 *   for long-range rates) except the sender, each with its own loss draw; one attempt, no ACK.
 * - Per directed link: RSSI (explicit setting, else placement + log-distance model, else a default),
 *   latency and loss (`link-table.ts`), plus fault switches (`radio-faults.ts`). A receiver below the
 *   sensitivity hears nothing.
 *
 * Timing: frames of one channel take turns (FIFO); with the `'air-time'` model each exchange occupies
 * the channel for its air time (`air-time.ts`), with `'instant'` for none. Who hears a frame, whether
 * keys match and the loss draws are decided when it goes on air; whether ESP-NOW is active on the
 * receiver, when the frame arrives. Delivery happens at air time + link latency (a frame that
 * got through on a retry arrives that many attempts later); the sender's outcome at the end of its
 * attempts, plus the latency out and back when acknowledged. Latency does not occupy the channel.
 * Nothing waits on a timer that is already due: with `'instant'` and zero latency a burst of frames is
 * carried on one microtask with no timers at all (benchmarks must not be bound by the medium).
 *
 * Receivers are called synchronously, one frame at a time, in arrival order; ring-buffer overflow and
 * `rx_dropped_packets` are the board side's business.
 *
 * Randomness comes from one seeded generator per medium, so with the same seed, clock and sends, the
 * same frames are lost.
 */
import type { Logger } from 'pino';
import { systemClock, type BoardClock } from '../board/board-clock.ts';
import { DEFAULT_PHY_RATE_MBPS, attemptTiming, type AttemptTiming } from './air-time.ts';
import { AttachedInterface, type InterfaceHost } from './attached-interface.ts';
import { ChannelQueue } from './channel-queue.ts';
import { protectionFor, receiverAccepts, type FrameProtection } from './espnow-keys.ts';
import { LinkTable, type EffectiveLink, type LinkSettings, type LinkTableOptions } from './link-table.ts';
import { checkMac, isGroupAddress, macHex } from './mac-address.ts';
import type { Placement } from './path-loss.ts';
import { RadioFaults, type BoardFaultSettings, type FaultSettings } from './radio-faults.ts';
import type { RadioInterface, RadioSendOutcome } from './radio-interface.ts';
import { SeededRandom } from './seeded-random.ts';
import { TrackedTimers } from './tracked-timers.ts';
import { DEFAULT_UNICAST_RETRIES, runUnicastExchange } from './unicast-exchange.ts';

/**
 * How frames use time. `'air-time'` (default): each exchange occupies its channel for the modelled air
 * time at the sender's PHY rate. `'instant'`: frames take no air time (only link latency applies), for
 * throughput benchmarks where the radio must not be the bottleneck.
 */
export type RadioTimeModel = 'air-time' | 'instant';

/** Settings of a medium; all optional. */
export interface RadioMediumOptions {
  /** Time source for all timing. Default {@link systemClock}. */
  clock?: BoardClock;
  /** Seed of the loss draws. Default 1. */
  seed?: number;
  /** Default `'air-time'`. */
  timeModel?: RadioTimeModel;
  /** MAC retries after the first attempt of a unicast frame. Default {@link DEFAULT_UNICAST_RETRIES} (6). */
  unicastRetries?: number;
  /** RSSI defaults, sensitivity and path-loss model. */
  links?: LinkTableOptions;
  /** Receives errors thrown by receivers (at `error`). */
  logger?: Logger;
}

/** What a board attaches with. */
export interface RadioAttachment {
  boardId: string;
  /** The board's Wi-Fi MAC, 6 bytes. */
  mac: Uint8Array;
}

interface QueuedFrame {
  readonly sender: AttachedInterface;
  readonly dst: Uint8Array;
  readonly groupAddressed: boolean;
  readonly payload: Uint8Array;
  readonly channel: number;
  readonly phyRateMbps: number;
  readonly protection: FrameProtection;
  readonly resolve: (outcome: RadioSendOutcome) => void;
}

const NOT_SENT: RadioSendOutcome = Object.freeze({ acked: false, attempts: 0 });
const NO_AIR_TIME: AttemptTiming = Object.freeze({ dataArrivalUs: 0, attemptUs: 0 });

export class RadioMedium {
  readonly timeModel: RadioTimeModel;
  readonly #clock: BoardClock;
  readonly #random: SeededRandom;
  readonly #faults = new RadioFaults();
  readonly #links: LinkTable;
  readonly #timers: TrackedTimers;
  readonly #maxAttempts: number;
  readonly #logger: Logger | undefined;
  readonly #byBoard = new Map<string, AttachedInterface>();
  readonly #byMac = new Map<string, AttachedInterface>();
  readonly #channels = new Map<number, ChannelQueue<QueuedFrame>>();
  /** Frames whose promise has not resolved yet, so `close()` can resolve them. */
  readonly #unsettled = new Set<QueuedFrame>();
  readonly #host: InterfaceHost;
  #closed = false;

  constructor(options: RadioMediumOptions = {}) {
    const retries = options.unicastRetries ?? DEFAULT_UNICAST_RETRIES;
    if (!Number.isInteger(retries) || retries < 0) throw new RangeError(`unicastRetries must be an integer ≥ 0, got ${retries}`);
    this.timeModel = options.timeModel ?? 'air-time';
    this.#clock = options.clock ?? systemClock;
    this.#random = new SeededRandom(options.seed ?? 1);
    this.#links = new LinkTable(this.#faults, options.links);
    this.#timers = new TrackedTimers(this.#clock);
    this.#maxAttempts = retries + 1;
    this.#logger = options.logger;
    this.#host = {
      enqueue: (sender, dst, payload) => this.#enqueue(sender, dst, payload),
      detach: (iface) => this.#detach(iface),
    };
  }

  /**
   * Puts a board's radio on the medium: Wi-Fi inactive, channel 1, 1 Mbps, ESP-NOW inactive, no keys.
   * @throws RangeError when the board id or MAC is already attached, or the MAC is not 6 bytes.
   */
  attach(attachment: RadioAttachment): RadioInterface {
    checkMac(attachment.mac, 'mac');
    const key = macHex(attachment.mac);
    if (this.#byBoard.has(attachment.boardId)) throw new RangeError(`board ${attachment.boardId} is already attached to the radio medium`);
    if (this.#byMac.has(key)) throw new RangeError(`MAC ${key} is already attached to the radio medium`);
    const iface = new AttachedInterface(attachment.boardId, attachment.mac, this.#host);
    this.#byBoard.set(iface.boardId, iface);
    this.#byMac.set(key, iface);
    return iface;
  }

  /** Places a board on the floor plan (metres) for the path-loss model, or removes it with null. */
  place(boardId: string, placement: Placement | null): void {
    this.#links.place(boardId, placement);
  }

  /** Merges `settings` into both directions between two boards. @throws RangeError on bad values. */
  setLink(boardA: string, boardB: string, settings: LinkSettings): void {
    this.#links.setDirected(boardA, boardB, settings);
    this.#links.setDirected(boardB, boardA, settings);
  }

  /** Merges `settings` into the link `fromBoardId` → `toBoardId` only (a matrix entry). */
  setDirectedLink(fromBoardId: string, toBoardId: string, settings: LinkSettings): void {
    this.#links.setDirected(fromBoardId, toBoardId, settings);
  }

  /** Forgets the settings of both directions between two boards. */
  clearLink(boardA: string, boardB: string): void {
    this.#links.clearDirected(boardA, boardB);
    this.#links.clearDirected(boardB, boardA);
  }

  /** Lab-wide fault switches (extra loss %, extra latency); omitted fields keep their value. */
  setGlobalFaults(settings: FaultSettings): void {
    this.#faults.setGlobal(settings);
  }

  /** One board's fault switches (extra loss %, extra latency, muted); omitted fields keep their value. */
  setBoardFaults(boardId: string, settings: BoardFaultSettings): void {
    this.#faults.setBoard(boardId, settings);
  }

  /** Switches every fault off. */
  clearFaults(): void {
    this.#faults.clear();
  }

  /** The link `fromBoardId` → `toBoardId` as frames see it now (faults included). */
  describeLink(fromBoardId: string, toBoardId: string): EffectiveLink {
    return this.#links.link(fromBoardId, toBoardId);
  }

  /**
   * Modelled time in ms from `send()` on an idle channel to delivery at the receiver, without retries:
   * air time (at the sender's current PHY rate; 0 with `'instant'`) + link latency. A ping-pong's
   * modelled round trip is the sum of both directions.
   */
  modelledDeliveryMs(fromBoardId: string, toBoardId: string, payloadBytes: number, encrypted = false): number {
    const rate = this.#byBoard.get(fromBoardId)?.phyRateMbps ?? DEFAULT_PHY_RATE_MBPS;
    const timing = this.timeModel === 'instant' ? NO_AIR_TIME : attemptTiming(payloadBytes, encrypted, rate, true);
    return timing.dataArrivalUs / 1000 + this.#links.link(fromBoardId, toBoardId).latencyMs;
  }

  /** Stops the medium: cancels its timers and resolves every pending send with `{ acked: false, attempts: 0 }`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#timers.cancelAll();
    for (const queue of this.#channels.values()) queue.drain();
    for (const frame of [...this.#unsettled]) this.#settle(frame, NOT_SENT);
  }

  #enqueue(sender: AttachedInterface, dst: Uint8Array, payload: Uint8Array): Promise<RadioSendOutcome> {
    if (this.#closed || !sender.attached) return Promise.resolve(NOT_SENT);
    const groupAddressed = isGroupAddress(dst);
    return new Promise((resolve) => {
      const frame: QueuedFrame = {
        sender,
        dst,
        groupAddressed,
        payload,
        channel: sender.channel,
        phyRateMbps: sender.phyRateMbps,
        protection: groupAddressed ? { encrypted: false } : protectionFor(sender.keys, dst),
        resolve,
      };
      this.#unsettled.add(frame);
      this.#channelQueue(frame.channel).push(frame);
      this.#schedulePump(frame.channel);
    });
  }

  #detach(iface: AttachedInterface): void {
    if (this.#byBoard.get(iface.boardId) === iface) this.#byBoard.delete(iface.boardId);
    if (this.#byMac.get(iface.macHex) === iface) this.#byMac.delete(iface.macHex);
  }

  #channelQueue(channel: number): ChannelQueue<QueuedFrame> {
    let queue = this.#channels.get(channel);
    if (queue === undefined) {
      queue = new ChannelQueue<QueuedFrame>();
      this.#channels.set(channel, queue);
    }
    return queue;
  }

  /**
   * Pumps on a microtask, never inside `send()`, so a receiver never runs inside its sender's call. While a
   * timer waits for the air to clear, that timer pumps instead.
   */
  #schedulePump(channel: number): void {
    const queue = this.#channelQueue(channel);
    if (queue.pumpQueued || queue.waitingForAir) return;
    queue.pumpQueued = true;
    queueMicrotask(() => {
      queue.pumpQueued = false;
      this.#pump(channel);
    });
  }

  /** Puts the frames queued now on air, one exchange after another; waits on a timer while the air is busy. */
  #pump(channel: number): void {
    const queue = this.#channelQueue(channel);
    if (this.#closed || queue.waitingForAir) return;
    // Frames queued by receivers during this pump wait for the next one, so a pump always ends.
    for (let budget = queue.length; budget > 0; budget--) {
      const nowMs = this.#clock.now();
      if (nowMs < queue.busyUntilMs) {
        queue.waitingForAir = true;
        this.#timers.at(queue.busyUntilMs, () => {
          queue.waitingForAir = false;
          this.#pump(channel);
        });
        return;
      }
      const busyMs = this.#transmit(queue.take(), nowMs);
      if (busyMs > 0) queue.busyUntilMs = nowMs + busyMs;
    }
    if (queue.length > 0) this.#schedulePump(channel);
  }

  /** Carries one frame that goes on air at `startMs`; returns how long it occupies the channel (ms). */
  #transmit(frame: QueuedFrame, startMs: number): number {
    const { sender } = frame;
    if (!sender.attached || !sender.wifiActive) {
      sender.stats.txFailed++;
      this.#settle(frame, NOT_SENT);
      return 0;
    }
    const timing =
      this.timeModel === 'instant' ? NO_AIR_TIME : attemptTiming(frame.payload.length, frame.protection.encrypted, frame.phyRateMbps, !frame.groupAddressed);
    sender.stats.txFrames++;
    return frame.groupAddressed ? this.#transmitGroup(frame, startMs, timing) : this.#transmitUnicast(frame, startMs, timing);
  }

  #transmitGroup(frame: QueuedFrame, startMs: number, timing: AttemptTiming): number {
    const { sender } = frame;
    const senderMuted = this.#faults.isMuted(sender.boardId);
    let first = true;
    for (const receiver of this.#byBoard.values()) {
      if (receiver === sender || !receiver.hears(frame.channel, frame.phyRateMbps)) continue;
      const link = this.#links.link(sender.boardId, receiver.boardId);
      if (senderMuted || !link.inRange || this.#random.chance(link.lossProbability)) continue;
      const payload = first ? frame.payload : frame.payload.slice();
      first = false;
      this.#deliverAt(startMs + timing.dataArrivalUs / 1000 + link.latencyMs, frame, receiver, payload, link.rssiDbm);
    }
    const busyMs = timing.attemptUs / 1000;
    sender.stats.txAttempts++;
    this.#timers.at(startMs + busyMs, () => this.#settle(frame, { acked: false, attempts: 1 }));
    return busyMs;
  }

  #transmitUnicast(frame: QueuedFrame, startMs: number, timing: AttemptTiming): number {
    const { sender } = frame;
    const receiver = this.#byMac.get(macHex(frame.dst));
    const listening = receiver !== undefined && receiver !== sender && receiver.hears(frame.channel, frame.phyRateMbps);
    const out = listening ? this.#links.link(sender.boardId, receiver.boardId) : null;
    const back = listening ? this.#links.link(receiver.boardId, sender.boardId) : null;
    const outcome = runUnicastExchange(
      {
        maxAttempts: this.#maxAttempts,
        dataCanArrive: out !== null && out.inRange && !this.#faults.isMuted(sender.boardId),
        dataLossProbability: out?.lossProbability ?? 1,
        ackCanArrive: receiver !== undefined && back !== null && back.inRange && !this.#faults.isMuted(receiver.boardId),
        ackLossProbability: back?.lossProbability ?? 1,
      },
      this.#random,
    );
    sender.stats.txAttempts += outcome.attempts;
    if (receiver !== undefined && out !== null && outcome.firstArrivalAttempt !== null) {
      if (receiverAccepts(frame.protection, sender.macHex, false, receiver.keys)) {
        const arrivalUs = (outcome.firstArrivalAttempt - 1) * timing.attemptUs + timing.dataArrivalUs;
        this.#deliverAt(startMs + arrivalUs / 1000 + out.latencyMs, frame, receiver, frame.payload, out.rssiDbm);
      } else {
        receiver.stats.rxRejected++;
      }
    }
    const busyMs = (outcome.attempts * timing.attemptUs) / 1000;
    const ackReturnMs = outcome.acked && out !== null && back !== null ? out.latencyMs + back.latencyMs : 0;
    this.#timers.at(startMs + busyMs + ackReturnMs, () => this.#settle(frame, { acked: outcome.acked, attempts: outcome.attempts }));
    return busyMs;
  }

  #deliverAt(dueMs: number, frame: QueuedFrame, receiver: AttachedInterface, payload: Uint8Array, rssiDbm: number): void {
    this.#timers.at(dueMs, () => {
      const hook = receiver.attached ? receiver.receiver : null;
      if (hook === null) {
        receiver.stats.rxRejected++;
        return;
      }
      receiver.stats.rxDelivered++;
      try {
        hook({ src: frame.sender.mac, payload, rssiDbm, atMs: this.#clock.now(), wasEncrypted: frame.protection.encrypted });
      } catch (err: unknown) {
        this.#logger?.error({ err, boardId: receiver.boardId }, 'ESP-NOW receiver threw');
      }
    });
  }

  #settle(frame: QueuedFrame, outcome: RadioSendOutcome): void {
    if (!this.#unsettled.delete(frame)) return;
    if (outcome.attempts > 0 && !frame.groupAddressed) frame.sender.stats[outcome.acked ? 'txAcked' : 'txFailed']++;
    frame.resolve(outcome);
  }
}
