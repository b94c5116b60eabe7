/**
 * Board leases for the CLI's local commands (`hil run`, `hil flash`): two processes on one host never
 * use a board at once. Busy boards are waited for with a visible reason, or refused at once with
 * `--no-wait`; a run that dies frees its boards (dead process on this host, or the TTL).
 */
import type { Bench } from '../../hil-config/load-bench.ts';
import type { Logger } from '../logger.ts';
import { BoardLeaser } from '../lease/board-leaser.ts';
import { FileLeaseStore } from '../lease/file-lease-store.ts';
import type { HeldLease } from '../lease/held-lease.ts';
import { leaseDirFor } from '../lease/lease-location.ts';
import { holderForThisProcess } from '../lease/lease-holder.ts';
import type { LeaseStore } from '../lease/lease-store.ts';
import type { CliIo } from './cli-io.ts';
import { openBench, stateHomeFrom } from './compose.ts';
import type { BenchSession } from '../bench/board-endpoint.ts';

/** `--no-wait` / `--wait-timeout <seconds>`. Commander turns `--no-wait` into `wait: false`. */
export interface LeaseFlags {
  wait?: boolean;
  waitTimeout?: number;
}

/** The lease store of `bench` on this host. */
export function leaseStoreFor(bench: Bench, io: Pick<CliIo, 'env'>): LeaseStore {
  const stateHome = stateHomeFrom(io.env);
  return new FileLeaseStore({ dir: leaseDirFor(bench, stateHome === undefined ? {} : { stateHome }) });
}

/**
 * Leases `boardIds` for `command`, waiting while other runs hold them (each change of holder printed on
 * stderr). A lease lost later aborts `abort`.
 */
export async function leaseBoards(bench: Bench, boardIds: readonly string[], command: string, flags: LeaseFlags,
  context: { io: CliIo; logger: Logger; abort: AbortController }): Promise<HeldLease> {
  const { io, logger, abort } = context;
  const leaser = new BoardLeaser({ store: leaseStoreFor(bench, io), holder: holderForThisProcess(command), logger });
  return leaser.acquire({ boardIds }, {
    noWait: flags.wait === false,
    ...(flags.waitTimeout !== undefined ? { waitTimeoutMs: flags.waitTimeout * 1000 } : {}),
    signal: abort.signal,
    onWaiting: (reason) => io.stderr.write(`hil: ${reason.message}\n`),
    onLost: (err) => abort.abort(err),
  });
}

/**
 * True while another process holds a lease on this bench: a virtual lab started by this process keeps
 * running for it (it attached to our lab) until it is done.
 */
export function othersUsingBench(bench: Bench, io: Pick<CliIo, 'env'>): () => Promise<boolean> {
  const store = leaseStoreFor(bench, io);
  return async () => (await store.list()).some((info) => info.holder.pid !== process.pid);
}

/** A bench opened for boards this process has leased; `close()` releases the lease, then closes the bench. */
export interface LeasedBench {
  session: BenchSession;
  close(): Promise<void>;
}

/**
 * Leases `boardIds` (waiting as {@link leaseBoards} does), then opens the bench for them. A lab started
 * here stays up at close while other runs still use it. The lease is released if the open fails.
 */
export async function openLeasedBench(bench: Bench, boardIds: readonly string[], argv: readonly string[], flags: LeaseFlags,
  context: { io: CliIo; logger: Logger; abort: AbortController; announce?: string }): Promise<LeasedBench> {
  const { io, logger } = context;
  const lease = await leaseBoards(bench, boardIds, describeCommand(argv), flags, context);
  if (context.announce !== undefined) io.stderr.write(context.announce);
  try {
    const session = await openBench(bench, {
      logger, boardIds,
      othersUsing: othersUsingBench(bench, io),
      onWaitingForOthers: () => io.stderr.write(`hil ${argv[0] ?? ''}: keeping the virtual lab running while other runs use it\n`),
    });
    return {
      session,
      close: async () => {
        // Release first: the lab this process started (if any) waits for other runs' leases before closing.
        await lease.release();
        await session.close();
      },
    };
  } catch (err: unknown) {
    await lease.release();
    throw err;
  }
}

export function describeCommand(argv: readonly string[]): string {
  return ['hil', ...argv].join(' ');
}

