/**
 * Leases the boards a run needs, waiting while they are in use: it asks the store for all of them at
 * once, and while some are busy it tells the caller why (who holds which board, until when) and asks
 * again — or fails at once when told not to wait. A granted lease comes back as a {@link HeldLease}
 * that renews itself until released.
 */
import type { Clock } from '../repl/clock.ts';
import { sleep, systemClock } from '../repl/clock.ts';
import { HilError } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { HeldLease } from './held-lease.ts';
import { boardsBusyError, waitTimedOutError } from './lease-errors.ts';
import { describeBoardLease } from './lease-holder.ts';
import type { AcquireResult, BoardLeaseInfo, LeaseHolder, LeaseStore } from './lease-store.ts';

/** Which boards: exactly these, or any `count` of `anyOf` (earlier ones preferred). */
export type BoardSelection =
  | { boardIds: readonly string[] }
  | { anyOf: readonly string[]; count: number };

/** Why an acquisition is waiting, for a progress line such as `hil: waiting for s3-a (leased by …)`. */
export interface WaitingReason {
  /** The requested boards in use, with their holders. */
  busy: BoardLeaseInfo[];
  /** One line: `waiting for s3-a (leased by alice@bench1 pid 4242, `hil run suites/espnow`, expires in 25 s)`. */
  message: string;
  /** How long this acquisition has waited so far, in milliseconds. */
  waitedMs: number;
}

export interface BoardLeaserOptions {
  store: LeaseStore;
  /** Who is asking (see holderForThisProcess). */
  holder: LeaseHolder;
  /** Lifetime of the lease without a heartbeat, in milliseconds. Default 30 000. */
  ttlMs?: number;
  /** How often to ask again while boards are busy, in milliseconds. Default 1 000. */
  pollMs?: number;
  clock?: Clock;
  logger?: Logger;
}

export interface LeaseAcquireOptions {
  /** Fail at once (busy code, see lease-errors.ts) instead of waiting for busy boards. */
  noWait?: boolean;
  /** Give up waiting after this many milliseconds (busy code). Default: wait until aborted. */
  waitTimeoutMs?: number;
  /** Stops waiting with ABORTED. */
  signal?: AbortSignal;
  /** Called when waiting starts and whenever the boards it waits for change hands. */
  onWaiting?: (reason: WaitingReason) => void;
  /** Called once if the granted lease is later lost (taken over after a missed heartbeat). */
  onLost?: (error: HilError) => void;
}

export const DEFAULT_LEASE_TTL_MS = 30_000;
export const DEFAULT_LEASE_POLL_MS = 1_000;

export class BoardLeaser {
  private readonly store: LeaseStore;
  private readonly holder: LeaseHolder;
  private readonly ttlMs: number;
  private readonly pollMs: number;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(options: BoardLeaserOptions) {
    this.store = options.store;
    this.holder = options.holder;
    this.ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    this.pollMs = options.pollMs ?? DEFAULT_LEASE_POLL_MS;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger();
  }

  /**
   * Leases the selected boards, all or none, waiting while any is busy unless `noWait`.
   * Throws the busy error (noWait, or `waitTimeoutMs` passed), ABORTED (signal), NOT_ENOUGH_BOARDS
   * (`count` larger than `anyOf`) or USAGE (a count that is not a whole number ≥ 0).
   */
  async acquire(selection: BoardSelection, options: LeaseAcquireOptions = {}): Promise<HeldLease> {
    checkSelection(selection);
    const startedAtMs = this.clock.now();
    const deadlineMs = options.waitTimeoutMs === undefined ? Infinity : startedAtMs + options.waitTimeoutMs;
    let lastWaitKey: string | undefined;
    for (;;) {
      throwIfAborted(options.signal);
      const result = await this.tryOnce(selection);
      if (result.granted) {
        this.logger.info({ boards: result.lease.boardIds, tokens: result.lease.tokens }, 'leased boards');
        return new HeldLease({ store: this.store, lease: result.lease, clock: this.clock, logger: this.logger, ...(options.onLost ? { onLost: options.onLost } : {}) });
      }
      const nowMs = this.clock.now();
      if (options.noWait === true) throw boardsBusyError(result.busy, nowMs);
      if (nowMs >= deadlineMs) throw waitTimedOutError(result.busy, nowMs - startedAtMs, nowMs);
      const waitKey = result.busy.map((info) => `${info.boardId}#${info.token}`).join(' ');
      if (waitKey !== lastWaitKey) {
        lastWaitKey = waitKey;
        const message = waitingMessage(selection, result.busy, nowMs);
        this.logger.info({ busy: result.busy }, message);
        options.onWaiting?.({ busy: result.busy, message, waitedMs: nowMs - startedAtMs });
      }
      await this.pause(result.busy, nowMs, deadlineMs, options.signal);
    }
  }

  /** One attempt: the store's answer, with `busy` limited to the boards asked for. */
  private async tryOnce(selection: BoardSelection): Promise<AcquireResult> {
    if ('boardIds' in selection) return this.store.tryAcquire({ boardIds: selection.boardIds, holder: this.holder, ttlMs: this.ttlMs });
    const candidates = [...new Set(selection.anyOf)];
    const inUse = (await this.store.list()).filter((info) => candidates.includes(info.boardId));
    const free = candidates.filter((id) => !inUse.some((info) => info.boardId === id));
    if (free.length < selection.count) return { granted: false, busy: inUse };
    const result = await this.store.tryAcquire({ boardIds: free.slice(0, selection.count), holder: this.holder, ttlMs: this.ttlMs });
    // Someone took a board between list and acquire: report it with the others and try again later.
    return result.granted ? result : { granted: false, busy: mergeBusy(inUse, result.busy) };
  }

  /** Sleeps until the next poll, the earliest expiry of a busy lease, or the deadline, whichever is first. */
  private async pause(busy: readonly BoardLeaseInfo[], nowMs: number, deadlineMs: number, signal: AbortSignal | undefined): Promise<void> {
    const earliestExpiryMs = Math.min(...busy.map((info) => info.expiresAtMs));
    const delayMs = Math.max(1, Math.min(this.pollMs, deadlineMs - nowMs, earliestExpiryMs - nowMs));
    try {
      await sleep(this.clock, delayMs, signal);
    } catch (err: unknown) {
      throw abortedError(err);
    }
  }
}

/** `waiting for s3-a (…); esp32-a (…)` or `waiting for 2 of s3-a, s3-b, s3-c (1 free): s3-a (…)`. */
function waitingMessage(selection: BoardSelection, busy: readonly BoardLeaseInfo[], nowMs: number): string {
  const holders = busy.map((info) => describeBoardLease(info, nowMs)).join('; ');
  if ('boardIds' in selection) return `waiting for ${holders}`;
  const candidates = [...new Set(selection.anyOf)];
  return `waiting for ${selection.count} of ${candidates.join(', ')} (${candidates.length - busy.length} free): ${holders}`;
}

function checkSelection(selection: BoardSelection): void {
  if ('boardIds' in selection) return;
  if (!Number.isInteger(selection.count) || selection.count < 0) {
    throw new HilError('USAGE', `the number of boards to lease must be a whole number ≥ 0 (got ${selection.count})`);
  }
  const candidates = new Set(selection.anyOf);
  if (selection.count > candidates.size) {
    throw new HilError('NOT_ENOUGH_BOARDS', `cannot lease ${selection.count} boards out of ${candidates.size} (${[...candidates].join(', ') || 'none'})`);
  }
}

function mergeBusy(a: readonly BoardLeaseInfo[], b: readonly BoardLeaseInfo[]): BoardLeaseInfo[] {
  const byBoard = new Map([...a, ...b].map((info) => [info.boardId, info]));
  return [...byBoard.values()].sort((x, y) => (x.boardId < y.boardId ? -1 : x.boardId > y.boardId ? 1 : 0));
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(signal.reason);
}

function abortedError(reason: unknown): HilError {
  if (reason instanceof HilError) return reason;
  return new HilError('ABORTED', 'stopped waiting for boards: the run was cancelled', { phase: 'lease' }, { cause: reason });
}
