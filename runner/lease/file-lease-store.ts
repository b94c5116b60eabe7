/**
 * The local lease backend: one directory per board under a lease directory, shared by every `hil`
 * process of this host (see board-lease-files.ts for the layout and why it is race-free). Besides
 * expiry, a board is free when its holder ran on this host and its process is gone, so a run that
 * was killed frees its boards at once rather than after its TTL.
 */
import { processExists } from '../process-exists.ts';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../repl/clock.ts';
import { systemClock } from '../repl/clock.ts';
import { HilError } from '../errors.ts';
import { BoardLeaseFiles, type LatestGeneration, type LeaseRecord } from './board-lease-files.ts';
import { LeaseErrorCodes, leaseLostError } from './lease-errors.ts';
import { normalizeRequest, type AcquireResult, type BoardLeaseInfo, type Lease, type LeaseRequest, type LeaseStore } from './lease-store.ts';

export interface FileLeaseStoreOptions {
  /** The lease directory; created on first use. Every process that must not share boards uses the same one. */
  dir: string;
  /** Time source for expiry. Default: the process clock. */
  clock?: Pick<Clock, 'now'>;
  /** This host's name: holders on it are checked for a living process. Default: `os.hostname()`. */
  hostName?: string;
  /** Whether process `pid` of this host exists. Default: `process.kill(pid, 0)` (EPERM counts as alive). */
  isProcessAlive?: (pid: number) => boolean;
}

/** How often one acquisition may lose a race to other processes before it gives up. */
const RACE_ATTEMPTS = 20;

/** Board leases in files, for the processes of one host (or hosts sharing the directory, by TTL only). */
export class FileLeaseStore implements LeaseStore {
  private readonly files: BoardLeaseFiles;
  private readonly clock: Pick<Clock, 'now'>;
  private readonly hostName: string;
  private readonly isProcessAlive: (pid: number) => boolean;

  constructor(options: FileLeaseStoreOptions) {
    this.files = new BoardLeaseFiles(options.dir);
    this.clock = options.clock ?? systemClock;
    this.hostName = options.hostName ?? hostname();
    this.isProcessAlive = options.isProcessAlive ?? processExists;
  }

  /** The lease directory. */
  get dir(): string {
    return this.files.dir;
  }

  async tryAcquire(request: LeaseRequest): Promise<AcquireResult> {
    const boardIds = normalizeRequest(request);
    for (let attempt = 0; attempt < RACE_ATTEMPTS; attempt++) {
      const nowMs = this.clock.now();
      const latest = await Promise.all(boardIds.map((id) => this.files.latest(id)));
      const busy = boardIds.flatMap((id, i) => this.activeLease(id, latest[i], nowMs) ?? []);
      if (busy.length > 0) return { granted: false, busy };

      const leaseId = randomUUID();
      const expiresAtMs = nowMs + request.ttlMs;
      const tokens: Record<string, number> = {};
      const taken: string[] = [];
      for (const [i, boardId] of boardIds.entries()) {
        const generation = (latest[i]?.generation ?? 0) + 1;
        const record: LeaseRecord = { leaseId, holder: request.holder, token: generation, ttlMs: request.ttlMs, acquiredAtMs: nowMs, expiresAtMs };
        if (!(await this.files.create(boardId, generation, record))) break;
        tokens[boardId] = generation;
        taken.push(boardId);
      }
      const lease: Lease = { leaseId, boardIds, holder: request.holder, tokens, ttlMs: request.ttlMs, expiresAtMs };
      if (taken.length === boardIds.length) return { granted: true, lease };
      // Another process changed a board between our read and our write: give back what we took, look again.
      await this.release({ ...lease, boardIds: taken });
    }
    throw new HilError(LeaseErrorCodes.busy, `boards ${boardIds.join(', ')} kept changing hands; could not lease them after ${RACE_ATTEMPTS} attempts`,
      { phase: 'lease', file: this.dir });
  }

  async renew(lease: Lease): Promise<Lease> {
    const nowMs = this.clock.now();
    const expiresAtMs = nowMs + lease.ttlMs;
    for (const boardId of lease.boardIds) {
      const latest = await this.files.latest(boardId);
      const record = ownRecord(latest, lease);
      if (latest === undefined || record === undefined || !(await this.files.create(boardId, latest.generation + 1, { ...record, expiresAtMs }))) {
        throw leaseLostError(boardId, this.activeLease(boardId, await this.files.latest(boardId), nowMs), nowMs);
      }
    }
    return { ...lease, expiresAtMs };
  }

  async release(lease: Lease): Promise<void> {
    for (const boardId of lease.boardIds) {
      // Loops only while the write loses to a takeover, after which the record is no longer ours.
      for (;;) {
        const latest = await this.files.latest(boardId);
        const record = ownRecord(latest, lease);
        if (latest === undefined || record === undefined) break;
        const released: LeaseRecord = { ...record, released: true, expiresAtMs: this.clock.now() };
        if (await this.files.create(boardId, latest.generation + 1, released)) break;
      }
    }
  }

  async list(): Promise<BoardLeaseInfo[]> {
    const nowMs = this.clock.now();
    const boardIds = (await this.files.boardIds()).sort();
    const latest = await Promise.all(boardIds.map((id) => this.files.latest(id)));
    return boardIds.flatMap((id, i) => this.activeLease(id, latest[i], nowMs) ?? []);
  }

  /** The board's lease if it still holds the board: not released, not expired, holder not known dead. */
  private activeLease(boardId: string, latest: LatestGeneration | undefined, nowMs: number): BoardLeaseInfo | undefined {
    const record = latest?.record;
    if (record === undefined || record.released === true || record.expiresAtMs <= nowMs) return undefined;
    if (record.holder.host === this.hostName && !this.isProcessAlive(record.holder.pid)) return undefined;
    return { boardId, holder: record.holder, token: record.token, acquiredAtMs: record.acquiredAtMs, expiresAtMs: record.expiresAtMs };
  }
}

/** The record of `latest` if it is `lease`'s own and not released. */
function ownRecord(latest: LatestGeneration | undefined, lease: Lease): LeaseRecord | undefined {
  const record = latest?.record;
  return record !== undefined && record.leaseId === lease.leaseId && record.released !== true ? record : undefined;
}

