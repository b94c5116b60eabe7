/**
 * The errors leasing raises, built in one place. Both are infrastructure errors (exit 3): nothing is
 * wrong with the input or the firmware, and trying again later or elsewhere can succeed.
 */
import { HilError, type ErrorCode } from '../errors.ts';
import { describeBoardLease, describeLease } from './lease-holder.ts';
import type { BoardLeaseInfo } from './lease-store.ts';

/** The codes lease errors carry; callers branch on these. */
export const LeaseErrorCodes = {
  /** Requested boards are leased by someone else and the caller would not (or no longer) wait. */
  busy: 'BOARDS_BUSY',
  /** A held lease was taken over or released behind the holder's back; stop using the boards. */
  lost: 'LEASE_LOST',
} as const satisfies Record<string, ErrorCode>;

/** Boards are in use and the caller asked not to wait (`--no-wait`). */
export function boardsBusyError(busy: readonly BoardLeaseInfo[], nowMs: number): HilError {
  return new HilError(LeaseErrorCodes.busy,
    `${countBoards(busy.length)} in use and not waiting (no-wait): ${busy.map((info) => describeBoardLease(info, nowMs)).join('; ')}`,
    busyEvidence(busy));
}

/** Boards were still in use when the wait ran out. */
export function waitTimedOutError(busy: readonly BoardLeaseInfo[], waitedMs: number, nowMs: number): HilError {
  return new HilError(LeaseErrorCodes.busy,
    `gave up after waiting ${Math.round(waitedMs / 1000)} s: ${countBoards(busy.length)} still in use: ${busy.map((info) => describeBoardLease(info, nowMs)).join('; ')}`,
    busyEvidence(busy));
}

/** A lease on `boardId` no longer belongs to its holder; `now` is the board's current lease, if any. */
export function leaseLostError(boardId: string, now: BoardLeaseInfo | undefined, nowMs: number): HilError {
  const why = now === undefined ? 'it was released or taken and is free now' : `it is now ${describeLease(now, nowMs)} (token ${now.token})`;
  return new HilError(LeaseErrorCodes.lost, `lost the lease on board ${boardId}: ${why}; stop using the board`, { boardId, phase: 'lease' });
}

function countBoards(n: number): string {
  return n === 1 ? '1 board is' : `${n} boards are`;
}

function busyEvidence(busy: readonly BoardLeaseInfo[]): { boardId?: string; phase: string; busy: BoardLeaseInfo[] } {
  return { ...(busy[0] ? { boardId: busy[0].boardId } : {}), phase: 'lease', busy: [...busy] };
}
