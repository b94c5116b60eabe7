/**
 * `hil boards`: every board of the bench with its identity (port path, confirmed by MAC), where it is
 * reached (tty, RFC 2217 URL), its USB descriptor facts, firmware version and state — like
 * `mpremote devs`, but keyed by port path and aware of leases. A board another run holds is never
 * touched; a free one is leased for the moment it takes to read its MAC and firmware version.
 */
import { resolve } from 'node:path';
import { DEFAULT_BENCH_FILE, loadBench, type Bench } from '../../hil-config/load-bench.ts';
import type { BenchSession, BoardEndpoint } from '../bench/board-endpoint.ts';
import { HilError, isHilError } from '../errors.ts';
import type { HeldLease } from '../lease/held-lease.ts';
import type { BoardLeaseInfo } from '../lease/lease-store.ts';
import { openLink } from '../link/open-link.ts';
import { createLogger, type Logger } from '../logger.ts';
import type { CliIo } from './cli-io.ts';
import { openBench, stateHomeFrom } from './compose.ts';
import { describeCommand, leaseBoards, leaseStoreFor, othersUsingBench } from './bench-leases.ts';
import { probeBoard } from './boards-probe.ts';
import { exitCodeForReport, listBoard, withProbe, type BoardListing, type BoardsReport } from './boards-report.ts';
import { formatBoardsTable } from './boards-table.ts';

export interface BoardsOptions {
  bench?: string;
  json?: boolean;
  /** `--no-probe` gives `false`: list without opening any board's serial endpoint. */
  probe?: boolean;
  logLevel: string;
}

/**
 * Lists the bench's boards on stdout (a table, or one JSON {@link BoardsReport} with `json`) and
 * returns the exit code: 0 when every board is idle or leased, 3 when one is offline or another board
 * answers at its port. A bad bench file throws CONFIG_* (exit 2) before anything opens.
 */
export async function boardsCommand(options: BoardsOptions, io: CliIo): Promise<number> {
  const logger = createLogger(options.logLevel);
  const bench = loadBench(options.bench === undefined ? DEFAULT_BENCH_FILE : resolve(io.cwd, options.bench), { stateHome: stateHomeFrom(io.env) });
  const abort = new AbortController();
  void io.interrupted.then((signal) => abort.abort(new HilError('ABORTED', `hil boards interrupted by ${signal}`)));
  const session = await openBench(bench, {
    logger,
    missingBoards: 'list',
    othersUsing: othersUsingBench(bench, io),
    onWaitingForOthers: () => io.stderr.write('hil boards: keeping the virtual lab running while other runs use it\n'),
  });
  let report: BoardsReport;
  try {
    report = await gatherReport(bench, session, { io, logger, abort, probe: options.probe !== false });
  } catch (err: unknown) {
    await session.close();
    throw err;
  }
  // Printed before closing: a lab this process started may stay up for a while for other runs.
  io.stdout.write(options.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatBoardsTable(report, Date.now()));
  await session.close();
  return exitCodeForReport(report);
}

interface GatherContext {
  io: CliIo;
  logger: Logger;
  abort: AbortController;
  probe: boolean;
}

/** Discovery, leases, then (unless told not to) a probe of every idle board, side by side. */
async function gatherReport(bench: Bench, session: BenchSession, context: GatherContext): Promise<BoardsReport> {
  const snapshot = session.usb === undefined ? undefined : await session.usb.discovery.list();
  const devices = snapshot === undefined || snapshot.problem !== undefined ? undefined : snapshot.devices;
  const usbProblem = snapshot === undefined
    ? 'this bench has no USB view here (a physical bench without USB discovery, or a virtual lab run by another process): VID:PID, USB serial, manufacturer and product are not shown'
    : snapshot.problem === undefined ? undefined : `${snapshot.problem}: VID:PID, USB serial, manufacturer and product are not shown`;
  const leases = new Map((await leaseStoreFor(bench, context.io).list()).map((info) => [info.boardId, info]));
  const listed = session.boards.map((endpoint) => ({ endpoint, listing: listBoard(endpoint, devices, leases.get(endpoint.boardId)) }));
  // allSettled: every probe has released its lease before an error (Ctrl-C) leaves this function.
  const settled = await Promise.allSettled(listed.map(({ endpoint, listing }) =>
    (context.probe && listing.state === 'idle' ? probeUnderLease(bench, endpoint, listing, context) : Promise.resolve(listing))));
  if (context.abort.signal.aborted) throw context.abort.signal.reason;
  const boards = settled.map((result) => {
    if (result.status === 'rejected') throw result.reason;
    return result.value;
  });
  return {
    bench: { name: bench.name, file: bench.file, kind: bench.kind },
    usb: { available: devices !== undefined, ...(usbProblem === undefined ? {} : { problem: usbProblem }) },
    probed: context.probe,
    boards,
  };
}

/**
 * Leases the board without waiting (another run that took it meanwhile wins: the board is shown as
 * leased and left alone), reads its facts, releases it. A lease lost mid-probe stops only this probe.
 */
async function probeUnderLease(bench: Bench, endpoint: BoardEndpoint, listing: BoardListing, context: GatherContext): Promise<BoardListing> {
  const boardAbort = new AbortController();
  const forward = (): void => boardAbort.abort(context.abort.signal.reason);
  context.abort.signal.addEventListener('abort', forward, { once: true });
  try {
    const taken = await leaseForProbe(bench, endpoint.boardId, context, boardAbort);
    if ('busy' in taken) {
      return taken.busy === undefined
        ? { ...listing, notes: [...listing.notes, 'another run held it for a moment; not probed'] }
        : withProbe(listing, { kind: 'busy', lease: taken.busy });
    }
    try {
      const facts = await probeBoard(endpoint, { openLink, logger: context.logger, signal: boardAbort.signal });
      return withProbe(listing, { kind: 'answered', facts });
    } catch (err: unknown) {
      if (context.abort.signal.aborted) throw context.abort.signal.reason;
      return withProbe(listing, { kind: 'failed', error: err });
    } finally {
      await taken.held.release();
    }
  } finally {
    context.abort.signal.removeEventListener('abort', forward);
  }
}

/** Our lease on the board, or who holds it (undefined: held a moment ago, free again, still not ours to probe). */
async function leaseForProbe(bench: Bench, boardId: string, context: GatherContext, abort: AbortController):
  Promise<{ held: HeldLease } | { busy: BoardLeaseInfo | undefined }> {
  try {
    return { held: await leaseBoards(bench, [boardId], describeCommand(['boards']), { wait: false }, { io: context.io, logger: context.logger, abort }) };
  } catch (err: unknown) {
    if (!isHilError(err, 'BOARDS_BUSY')) throw err;
    // lease-errors.ts puts the busy leases (BoardLeaseInfo[]) in the evidence.
    const busy = err.evidence['busy'];
    return { busy: Array.isArray(busy) ? (busy as BoardLeaseInfo[]).find((info) => info.boardId === boardId) : undefined };
  }
}
