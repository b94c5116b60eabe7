/**
 * `hil flash FILE`: checks the image against every chosen board, then flashes them side by side
 * (skipping regions that already match, diff-flashing changed ones, verifying all by MD5), confirms
 * each booted the image's version, and optionally deploys an application bundle.
 */
import { resolve } from 'node:path';
import { DEFAULT_BENCH_FILE, loadBench } from '../../hil-config/load-bench.ts';
import { loadAppBundle } from '../deploy/app-bundle.ts';
import { exitCodeFor, HilError, isHilError } from '../errors.ts';
import { EsptoolFlasher } from '../flash/esptool-flasher.ts';
import { FirmwarePreparation } from '../flash/firmware-preparation.ts';
import { openLink } from '../link/open-link.ts';
import { createBoardLinkReopener } from '../bench/board-link-reopener.ts';
import { systemClock } from '../repl/clock.ts';
import { createLogger } from '../logger.ts';
import { FlashProgressBar } from '../report/flash-progress-bar.ts';
import type { CliIo } from './cli-io.ts';
import { stateHomeFrom } from './compose.ts';
import { openLeasedBench, type LeaseFlags } from './bench-leases.ts';
import { planFirmwareForBoards } from './firmware-for-boards.ts';
import { describeError } from './main.ts';
import { selectBoards } from './run-command.ts';

export interface FlashOptions extends LeaseFlags {
  bench?: string;
  board?: string[];
  app?: string;
  logLevel: string;
}

export async function flashCommand(file: string, options: FlashOptions, io: CliIo): Promise<number> {
  const logger = createLogger(options.logLevel);
  const bench = loadBench(options.bench === undefined ? DEFAULT_BENCH_FILE : resolve(io.cwd, options.bench), { stateHome: stateHomeFrom(io.env) });
  const candidates = selectBoards(bench, options.board);
  const { plan, boards, leftOut } = await planFirmwareForBoards(resolve(io.cwd, file), candidates, options.board !== undefined);
  const app = options.app === undefined ? undefined : loadAppBundle(resolve(io.cwd, options.app));
  io.stderr.write(`hil flash: ${plan.summary[0]}; ${plan.projectName} ${plan.appVersion} for ${plan.chip}\n`);
  if (leftOut.length > 0) io.stderr.write(`hil flash: leaving out ${leftOut.map((b) => `${b.id} (${b.chip})`).join(', ')}: the image is for ${plan.chip}\n`);

  const bar = io.stderr.isTTY === true ? new FlashProgressBar(io.stderr) : undefined;
  const lines: string[] = [];
  const preparation = new FirmwarePreparation({
    plan,
    ...(app ? { app } : {}),
    createFlasher: (boardLogger) => new EsptoolFlasher({ logger: boardLogger }),
    ...(bar ? { onFlashProgress: (event) => bar.update(event) } : {}),
    onFlashed: (boardId, result, booted) => {
      lines.push(`${boardId}: ${booted} running; ${result.regions.map((r) => `${r.name} ${r.outcome}`).join(', ')} (${result.baudRate} baud)`);
    },
  });
  const abort = new AbortController();
  void io.interrupted.then((signal) => abort.abort(new HilError('ABORTED', `flash interrupted by ${signal}`)));
  const leased = await openLeasedBench(bench, boards.map((b) => b.id), ['flash', file], options, { io, logger, abort });
  const session = leased.session;
  let exitCode = 0;
  try {
    const reopen = createBoardLinkReopener({ usb: session.usb, openLink, clock: systemClock, logger });
    const results = await Promise.allSettled(session.boards.map((endpoint) => preparation.prepare(endpoint, {
      openLink,
      reopen,
      logger: logger.child({ board: endpoint.boardId }),
      progress: (message) => { if (!bar) io.stderr.write(`  ${endpoint.boardId}: ${message}\n`); },
      signal: abort.signal,
    })));
    bar?.done();
    results.forEach((result, index) => {
      if (result.status === 'fulfilled') return;
      const boardId = session.boards[index]?.boardId ?? '?';
      lines.push(`${boardId}: FAILED — ${describeError(result.reason)}`);
      // Bad input outranks a rig error: it is what the user must fix first.
      const code = exitCodeFor(result.reason);
      exitCode = exitCode === 2 || code === 2 ? 2 : Math.max(exitCode, code);
      if (!isHilError(result.reason)) logger.error({ err: result.reason }, 'flash failed');
    });
  } finally {
    await leased.close();
  }
  io.stdout.write(`${lines.sort().join('\n')}\n`);
  return exitCode;
}
