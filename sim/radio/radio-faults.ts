/**
 * Fault switches for fault-injection tests: extra loss and latency for the whole lab or one board, and
 * muting a board. A board's faults apply to every frame it sends or receives, acknowledgements included.
 * Losses from separate sources are independent, so they combine as 1 − Π(1 − pᵢ); latencies add.
 */

/** Faults that apply lab-wide or to one board. */
export interface FaultSettings {
  /** Extra chance, 0–100, that a frame (data or ACK) is lost. Default 0. */
  lossPercent?: number;
  /** Extra one-way latency in ms added to every frame. Default 0. */
  extraLatencyMs?: number;
}

/** Faults of one board. */
export interface BoardFaultSettings extends FaultSettings {
  /**
   * The board stops transmitting: a dead PA or antenna. Its radio goes through the motions (frames take
   * their turn on the channel and retries run), but nobody hears its frames or its acknowledgements,
   * so its unicast sends report no ACK and peers sending to it do not get ACKs either (they still
   * deliver to it: its receiver works). Default false.
   */
  muted?: boolean;
}

/** @throws RangeError when a value is outside its range. */
export function checkFaultSettings(settings: BoardFaultSettings): void {
  const { lossPercent, extraLatencyMs } = settings;
  if (lossPercent !== undefined && !(lossPercent >= 0 && lossPercent <= 100)) throw new RangeError(`lossPercent must be 0–100, got ${lossPercent}`);
  if (extraLatencyMs !== undefined && !(extraLatencyMs >= 0 && Number.isFinite(extraLatencyMs))) {
    throw new RangeError(`extraLatencyMs must be a finite number ≥ 0, got ${extraLatencyMs}`);
  }
}

/** The current fault switches of one lab. */
export class RadioFaults {
  #global: Required<FaultSettings> = { lossPercent: 0, extraLatencyMs: 0 };
  readonly #boards = new Map<string, Required<BoardFaultSettings>>();

  /** Changes the lab-wide faults; omitted fields keep their value. */
  setGlobal(settings: FaultSettings): void {
    checkFaultSettings(settings);
    this.#global = { ...this.#global, ...defined(settings) };
  }

  /** Changes one board's faults; omitted fields keep their value. */
  setBoard(boardId: string, settings: BoardFaultSettings): void {
    checkFaultSettings(settings);
    const current = this.#boards.get(boardId) ?? { lossPercent: 0, extraLatencyMs: 0, muted: false };
    this.#boards.set(boardId, { ...current, ...defined(settings) });
  }

  /** Switches every fault off. */
  clear(): void {
    this.#global = { lossPercent: 0, extraLatencyMs: 0 };
    this.#boards.clear();
  }

  /** True when `boardId` is muted. */
  isMuted(boardId: string): boolean {
    return this.#boards.get(boardId)?.muted ?? false;
  }

  /** Fault loss probability (0–1) for a frame from `fromBoardId` to `toBoardId`. */
  lossProbability(fromBoardId: string, toBoardId: string): number {
    let delivered = 1 - this.#global.lossPercent / 100;
    for (const id of [fromBoardId, toBoardId]) delivered *= 1 - (this.#boards.get(id)?.lossPercent ?? 0) / 100;
    return 1 - delivered;
  }

  /** Fault latency in ms for a frame from `fromBoardId` to `toBoardId`. */
  extraLatencyMs(fromBoardId: string, toBoardId: string): number {
    const board = (id: string) => this.#boards.get(id)?.extraLatencyMs ?? 0;
    return this.#global.extraLatencyMs + board(fromBoardId) + board(toBoardId);
  }
}

/** `settings` without the fields that are `undefined`, so spreading it keeps current values. */
function defined<T extends object>(settings: T): Partial<T> {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as Partial<T>;
}
