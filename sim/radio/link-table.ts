/**
 * What one directed link (sender board → receiver board) looks like to the medium: RSSI, latency, loss,
 * and whether the receiver can hear the sender at all. RSSI comes from an explicit link setting if there
 * is one, else from both boards' placements (log-distance model), else a bench default. Links are keyed
 * by board id, so they can be configured before the boards attach and survive a board's re-attach.
 */
import { DEFAULT_PATH_LOSS, reportableRssi, rssiFromPlacement, type PathLossModel, type Placement } from './path-loss.ts';
import type { RadioFaults } from './radio-faults.ts';

/** Configured properties of a link; omitted fields fall back to the defaults. */
export interface LinkSettings {
  /** RSSI at the receiver in dBm; overrides the placement model. */
  rssiDbm?: number;
  /** One-way latency in ms added on top of air time (default 0). */
  latencyMs?: number;
  /** Chance, 0–100, that any one frame on this link (data or ACK) is lost (default 0). */
  lossPercent?: number;
}

/** The link as the medium uses it, faults included. */
export interface EffectiveLink {
  /** RSSI the receiver reports, whole dBm in −127…0. */
  rssiDbm: number;
  /** One-way latency in ms: link latency + fault latency. */
  latencyMs: number;
  /** Chance, 0–1, that one frame is lost: link loss and fault loss combined. */
  lossProbability: number;
  /** False when the RSSI is below the receiver's sensitivity: nothing gets through. */
  inRange: boolean;
}

/** Settings of the link table (all optional). */
export interface LinkTableOptions {
  /** RSSI for boards without placement or link setting. Default −40 dBm (boards side by side on a bench). */
  defaultRssiDbm?: number;
  /** Frames weaker than this are not received. Default −98 dBm (ESP32 datasheet, 802.11b 1 Mbps). */
  sensitivityDbm?: number;
  /** Log-distance model parameters; default {@link DEFAULT_PATH_LOSS}. */
  pathLoss?: PathLossModel;
}

/** @throws RangeError when a value is outside its range. */
export function checkLinkSettings(settings: LinkSettings): void {
  const { rssiDbm, latencyMs, lossPercent } = settings;
  if (rssiDbm !== undefined && !Number.isFinite(rssiDbm)) throw new RangeError(`rssiDbm must be finite, got ${rssiDbm}`);
  if (latencyMs !== undefined && !(latencyMs >= 0 && Number.isFinite(latencyMs))) throw new RangeError(`latencyMs must be a finite number ≥ 0, got ${latencyMs}`);
  if (lossPercent !== undefined && !(lossPercent >= 0 && lossPercent <= 100)) throw new RangeError(`lossPercent must be 0–100, got ${lossPercent}`);
}

/** Placements and per-link settings of one lab. */
export class LinkTable {
  readonly #placements = new Map<string, Placement>();
  readonly #links = new Map<string, LinkSettings>();
  readonly #defaultRssiDbm: number;
  readonly #sensitivityDbm: number;
  readonly #pathLoss: PathLossModel;

  constructor(
    private readonly faults: RadioFaults,
    options: LinkTableOptions = {},
  ) {
    this.#defaultRssiDbm = options.defaultRssiDbm ?? -40;
    this.#sensitivityDbm = options.sensitivityDbm ?? -98;
    this.#pathLoss = options.pathLoss ?? DEFAULT_PATH_LOSS;
    if (!Number.isFinite(this.#defaultRssiDbm) || !Number.isFinite(this.#sensitivityDbm)) throw new RangeError('RSSI defaults must be finite');
  }

  /** Puts a board at `placement` (metres), or removes it from the floor plan with `null`. */
  place(boardId: string, placement: Placement | null): void {
    if (placement === null) {
      this.#placements.delete(boardId);
      return;
    }
    if (!Number.isFinite(placement.xM) || !Number.isFinite(placement.yM)) throw new RangeError(`placement of ${boardId} must be finite metres`);
    this.#placements.set(boardId, { xM: placement.xM, yM: placement.yM });
  }

  /** Merges `settings` into the directed link `fromBoardId` → `toBoardId`. */
  setDirected(fromBoardId: string, toBoardId: string, settings: LinkSettings): void {
    checkLinkSettings(settings);
    const key = linkKey(fromBoardId, toBoardId);
    const merged: LinkSettings = { ...this.#links.get(key) };
    for (const [name, value] of Object.entries(settings) as [keyof LinkSettings, number | undefined][]) if (value !== undefined) merged[name] = value;
    this.#links.set(key, merged);
  }

  /** Forgets the settings of the directed link `fromBoardId` → `toBoardId`. */
  clearDirected(fromBoardId: string, toBoardId: string): void {
    this.#links.delete(linkKey(fromBoardId, toBoardId));
  }

  /** The effective link `fromBoardId` → `toBoardId` now. */
  link(fromBoardId: string, toBoardId: string): EffectiveLink {
    const settings = this.#links.get(linkKey(fromBoardId, toBoardId)) ?? {};
    const from = this.#placements.get(fromBoardId);
    const to = this.#placements.get(toBoardId);
    const rawRssi = settings.rssiDbm ?? (from && to ? rssiFromPlacement(from, to, this.#pathLoss) : this.#defaultRssiDbm);
    const linkLoss = (settings.lossPercent ?? 0) / 100;
    const faultLoss = this.faults.lossProbability(fromBoardId, toBoardId);
    return {
      rssiDbm: reportableRssi(rawRssi),
      latencyMs: (settings.latencyMs ?? 0) + this.faults.extraLatencyMs(fromBoardId, toBoardId),
      lossProbability: 1 - (1 - linkLoss) * (1 - faultLoss),
      inRange: rawRssi >= this.#sensitivityDbm,
    };
  }
}

function linkKey(fromBoardId: string, toBoardId: string): string {
  return JSON.stringify([fromBoardId, toBoardId]);
}
