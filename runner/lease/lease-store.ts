/**
 * Board leases: the one rule that keeps two runs off the same board. A lease covers a set of boards and
 * is granted all-or-nothing, so a multi-board run never waits while holding half its boards. It lasts
 * `ttlMs` unless renewed (heartbeat), so a run that dies frees its boards; each board's lease carries a
 * fencing token that only grows, so anything acting on the board can refuse a holder that was overtaken.
 *
 * Two backends implement {@link LeaseStore}: files in a directory for local `hil run` (FileLeaseStore)
 * and, with the queue, Redis for workers on many hosts. The interface is written for both: everything
 * is asynchronous, a lease is plain data, and a backend keeps no per-lease state in memory.
 */
import { HilError } from '../errors.ts';

/** Who holds a lease, for messages like "leased by alice@bench1 pid 4242, `hil run suites/espnow`". */
export interface LeaseHolder {
  /** Login name of the user running the holder process. */
  user: string;
  /** Host name of the machine the holder process runs on. */
  host: string;
  /** Process id on `host`. Backends on one host use it to free the leases of processes that died. */
  pid: number;
  /** The command line that holds the boards, e.g. `hil run suites/espnow`. */
  command: string;
}

/** A granted lease on a set of boards. Plain, immutable data: renewing returns a new value. */
export interface Lease {
  /** Unique per acquisition; the backend recognises its own records by it. */
  readonly leaseId: string;
  /** The leased boards, sorted, without duplicates. */
  readonly boardIds: readonly string[];
  readonly holder: LeaseHolder;
  /**
   * Fencing token per board: strictly greater than every token granted for that board before,
   * including across takeovers of expired or dead holders; unchanged by renewals.
   */
  readonly tokens: Readonly<Record<string, number>>;
  /** How long one grant or renewal lasts, in milliseconds. */
  readonly ttlMs: number;
  /** When the lease ends unless renewed, in milliseconds since the epoch (the store's clock). */
  readonly expiresAtMs: number;
}

/** One board's current lease, as shown by `hil boards` or in "waiting for …" messages. */
export interface BoardLeaseInfo {
  boardId: string;
  holder: LeaseHolder;
  token: number;
  /** Milliseconds since the epoch when the holder took the board. */
  acquiredAtMs: number;
  /** Milliseconds since the epoch when the lease ends unless renewed. */
  expiresAtMs: number;
}

/** What a board set is asked for. */
export interface LeaseRequest {
  /** Boards to lease together; duplicates are ignored. */
  boardIds: readonly string[];
  holder: LeaseHolder;
  /** Lifetime of the grant and of each renewal, in milliseconds (> 0). */
  ttlMs: number;
}

/** Either every requested board was granted, or none was and `busy` names the ones in use. */
export type AcquireResult =
  | { granted: true; lease: Lease }
  | { granted: false; busy: BoardLeaseInfo[] };

/** A place where board leases live (role interface; see the file comment for the backends). */
export interface LeaseStore {
  /**
   * Leases all requested boards at once, or none. A board is free when it has no lease, its lease was
   * released or expired, or (backends that can tell) its holder's process no longer exists. Never
   * waits for busy boards: the caller decides whether to wait (see BoardLeaser).
   */
  tryAcquire(request: LeaseRequest): Promise<AcquireResult>;
  /**
   * Extends every board of `lease` by its `ttlMs` from now and returns the renewed lease. A lease that
   * expired but that nobody took is renewed. Throws the lease-lost HilError (see lease-errors.ts),
   * naming the board and its new holder, when any board was taken over or released meanwhile.
   */
  renew(lease: Lease): Promise<Lease>;
  /** Frees the boards of `lease` that it still holds. Idempotent; never throws for a lost lease. */
  release(lease: Lease): Promise<void>;
  /** The boards currently leased (free ones are left out), sorted by board id. */
  list(): Promise<BoardLeaseInfo[]>;
}

/** The sorted, duplicate-free board list of a request; a TTL that is not a positive number is a USAGE error. */
export function normalizeRequest(request: LeaseRequest): string[] {
  if (!(request.ttlMs > 0) || !Number.isFinite(request.ttlMs)) {
    throw new HilError('USAGE', `a lease time-to-live must be a positive number of milliseconds (got ${request.ttlMs})`);
  }
  if (request.boardIds.some((id) => id.length === 0)) throw new HilError('USAGE', 'a board id to lease must not be empty');
  return [...new Set(request.boardIds)].sort();
}
