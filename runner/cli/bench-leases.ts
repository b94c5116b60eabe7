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
import { stateHomeFrom } from './compose.ts';

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

export function describeCommand(argv: readonly string[]): string {
  return ['hil', ...argv].join(' ');
}

export type { Logger };
