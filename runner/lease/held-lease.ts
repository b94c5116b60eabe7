/**
 * A lease this process holds, kept alive by a heartbeat: renewed every third of its TTL, so two
 * missed beats still leave it valid. When a renewal finds the lease taken over (or cannot reach the
 * store until the lease has run out) the heartbeat stops and `onLost` is told, so the run can abort:
 * from then on someone else may be using the boards.
 */
import type { Clock } from '../repl/clock.ts';
import { HilError, isHilError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { LeaseErrorCodes } from './lease-errors.ts';
import type { Lease, LeaseStore } from './lease-store.ts';

export interface HeldLeaseOptions {
  store: LeaseStore;
  lease: Lease;
  clock: Clock;
  logger: Logger;
  /** Called once when the lease is lost; the error carries the lease-lost code and names the board. */
  onLost?: (error: HilError) => void;
}

/** Fraction of the TTL between renewals. */
const BEATS_PER_TTL = 3;

export class HeldLease {
  private current: Lease;
  private state: 'held' | 'lost' | 'released' = 'held';
  private cancelTimer: () => void = () => {};
  private beating: Promise<void> = Promise.resolve();
  private readonly options: HeldLeaseOptions;

  constructor(options: HeldLeaseOptions) {
    this.options = options;
    this.current = options.lease;
    this.scheduleBeat();
  }

  /** The lease as last renewed. */
  get lease(): Lease {
    return this.current;
  }

  get boardIds(): readonly string[] {
    return this.current.boardIds;
  }

  /** Fencing token per board (see {@link Lease.tokens}). */
  get tokens(): Readonly<Record<string, number>> {
    return this.current.tokens;
  }

  /** True once a renewal found the lease lost. */
  get lost(): boolean {
    return this.state === 'lost';
  }

  /**
   * Stops the heartbeat and frees the boards this lease still holds. Idempotent; also frees the
   * remaining boards of a lost lease. Waits for a renewal in flight so it cannot land after the release.
   */
  async release(): Promise<void> {
    if (this.state === 'released') return;
    this.state = 'released';
    this.cancelTimer();
    await this.beating;
    await this.options.store.release(this.current);
    this.options.logger.info({ boards: this.current.boardIds }, 'released board lease');
  }

  private scheduleBeat(): void {
    this.cancelTimer = this.options.clock.setTimer(() => {
      this.beating = this.beat();
    }, this.current.ttlMs / BEATS_PER_TTL);
  }

  private async beat(): Promise<void> {
    if (this.state !== 'held') return;
    try {
      const renewed = await this.options.store.renew(this.current);
      if (this.state !== 'held') return;
      this.current = renewed;
      this.scheduleBeat();
    } catch (err: unknown) {
      if (this.state !== 'held') return;
      if (isHilError(err, LeaseErrorCodes.lost)) {
        this.lose(err);
      } else if (this.options.clock.now() >= this.current.expiresAtMs) {
        this.lose(new HilError(LeaseErrorCodes.lost,
          `lost the lease on ${this.current.boardIds.join(', ')}: it could not be renewed before it expired (${err instanceof Error ? err.message : String(err)})`,
          { phase: 'lease', ...(this.current.boardIds[0] ? { boardId: this.current.boardIds[0] } : {}) }, { cause: err }));
      } else {
        // The store failed (full disk, Redis hiccup) but the lease still runs: try again next beat.
        this.options.logger.warn({ err, boards: this.current.boardIds }, 'could not renew board lease; retrying');
        this.scheduleBeat();
      }
    }
  }

  private lose(error: HilError): void {
    this.state = 'lost';
    this.options.logger.warn({ boards: this.current.boardIds, code: error.code }, error.message);
    try {
      this.options.onLost?.(error);
    } catch (err: unknown) {
      this.options.logger.error({ err }, 'the lease-lost handler failed');
    }
  }
}
