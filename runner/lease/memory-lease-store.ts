/**
 * Board leases inside one process: the same contract as the file and Redis backends, without I/O.
 * For tests of code that leases boards, and for embedding the rig where one process owns the bench.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../repl/clock.ts';
import { systemClock } from '../repl/clock.ts';
import { leaseLostError } from './lease-errors.ts';
import { normalizeRequest, type AcquireResult, type BoardLeaseInfo, type Lease, type LeaseRequest, type LeaseStore } from './lease-store.ts';

interface BoardState {
  /** Last fencing token granted for the board. */
  lastToken: number;
  current: (BoardLeaseInfo & { leaseId: string }) | undefined;
}

/** Board leases in this process's memory (no dead-process check: every holder is this process). */
export class MemoryLeaseStore implements LeaseStore {
  private readonly boards = new Map<string, BoardState>();
  private readonly clock: Pick<Clock, 'now'>;

  constructor(options: { clock?: Pick<Clock, 'now'> } = {}) {
    this.clock = options.clock ?? systemClock;
  }

  async tryAcquire(request: LeaseRequest): Promise<AcquireResult> {
    const boardIds = normalizeRequest(request);
    const nowMs = this.clock.now();
    const busy = boardIds.flatMap((id) => this.active(id, nowMs) ?? []);
    if (busy.length > 0) return { granted: false, busy: busy.map(publicInfo) };
    const leaseId = randomUUID();
    const expiresAtMs = nowMs + request.ttlMs;
    const tokens: Record<string, number> = {};
    for (const boardId of boardIds) {
      const state = this.state(boardId);
      state.lastToken += 1;
      tokens[boardId] = state.lastToken;
      state.current = { boardId, leaseId, holder: request.holder, token: state.lastToken, acquiredAtMs: nowMs, expiresAtMs };
    }
    return { granted: true, lease: { leaseId, boardIds, holder: request.holder, tokens, ttlMs: request.ttlMs, expiresAtMs } };
  }

  async renew(lease: Lease): Promise<Lease> {
    const nowMs = this.clock.now();
    const expiresAtMs = nowMs + lease.ttlMs;
    for (const boardId of lease.boardIds) {
      const current = this.boards.get(boardId)?.current;
      if (current?.leaseId !== lease.leaseId) {
        const taker = this.active(boardId, nowMs);
        throw leaseLostError(boardId, taker && publicInfo(taker), nowMs);
      }
    }
    for (const boardId of lease.boardIds) {
      const current = this.boards.get(boardId)?.current;
      if (current) current.expiresAtMs = expiresAtMs;
    }
    return { ...lease, expiresAtMs };
  }

  async release(lease: Lease): Promise<void> {
    for (const boardId of lease.boardIds) {
      const state = this.boards.get(boardId);
      if (state?.current?.leaseId === lease.leaseId) state.current = undefined;
    }
  }

  async list(): Promise<BoardLeaseInfo[]> {
    const nowMs = this.clock.now();
    return [...this.boards.keys()].sort().flatMap((id) => {
      const active = this.active(id, nowMs);
      return active ? [publicInfo(active)] : [];
    });
  }

  /** The board's lease unless it expired; an expired lease stays recorded so its holder can still renew it. */
  private active(boardId: string, nowMs: number): (BoardLeaseInfo & { leaseId: string }) | undefined {
    const current = this.boards.get(boardId)?.current;
    return current !== undefined && current.expiresAtMs > nowMs ? current : undefined;
  }

  private state(boardId: string): BoardState {
    let state = this.boards.get(boardId);
    if (state === undefined) {
      state = { lastToken: 0, current: undefined };
      this.boards.set(boardId, state);
    }
    return state;
  }
}

function publicInfo({ leaseId: _leaseId, ...info }: BoardLeaseInfo & { leaseId: string }): BoardLeaseInfo {
  return { ...info };
}
