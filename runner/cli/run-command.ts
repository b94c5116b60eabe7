/**
 * `hil run`: validate everything first (bench, suites, board placement, output paths) so that bad input
 * exits 2 before any board is touched; then open the bench, run, report, and close the bench.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DEFAULT_BENCH_FILE, loadBench, type Bench } from '../../hil-config/load-bench.ts';
import { exitCodeFor, HilError } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { ConsoleReporter } from '../report/console-reporter.ts';
import { JsonReporter } from '../report/json-reporter.ts';
import { JUnitReporter } from '../report/junit-reporter.ts';
import type { RunReporter } from '../suite/run-events.ts';
import { planBoardSets } from '../suite/board-allocation.ts';
import { loadSuite } from '../suite/suite-loader.ts';
import { runSuites } from '../suite/suite-runner.ts';
import { loadAppBundle } from '../deploy/app-bundle.ts';
import { AppDeployPreparation } from '../deploy/app-preparation.ts';
import { EsptoolFlasher } from '../flash/esptool-flasher.ts';
import { FirmwarePreparation } from '../flash/firmware-preparation.ts';
import { planFirmwareForBoards } from './firmware-for-boards.ts';
import { describeError } from './main.ts';
import { endpointFor, stateHomeFrom } from './compose.ts';
import { openLeasedBench } from './bench-leases.ts';
import type { CliIo } from './cli-io.ts';

export interface RunOptions {
  suites: string[];
  bench?: string;
  junit?: string;
  json?: boolean;
  app?: string;
  firmware?: string;
  board?: string[];
  logLevel: string;
  /** `--no-wait` gives `false`: fail at once when another run holds a board. */
  wait?: boolean;
  /** `--wait-timeout <seconds>`. */
  waitTimeout?: number;
  /** `--roles <n|all>`: role permutations for multitest files given directly. */
  roles?: number | 'all';
}

export async function runCommand(options: RunOptions, io: CliIo): Promise<number> {
  const logger = createLogger(options.logLevel);
  const benchFile = options.bench === undefined ? DEFAULT_BENCH_FILE : resolve(io.cwd, options.bench);
  const bench = loadBench(benchFile, { stateHome: stateHomeFrom(io.env) });
  const suites = options.suites.map((ref) => loadSuite(ref, io.cwd, options.roles === undefined ? {} : { roles: options.roles }));
  let boards = selectBoards(bench, options.board);
  // With --firmware the image is read and checked for every board before anything opens; boards of
  // another chip than the image's are left out (or refused when named with --board).
  const firmware = options.firmware === undefined ? undefined
    : await planFirmwareForBoards(resolve(io.cwd, options.firmware), boards, options.board !== undefined);
  if (firmware !== undefined) {
    boards = firmware.boards;
    if (firmware.leftOut.length > 0) {
      io.stderr.write(`hil: ${options.firmware} is for ${firmware.plan.chip}; leaving out ${firmware.leftOut.map((b) => `${b.id} (${b.chip})`).join(', ')}\n`);
    }
  }
  // Placement is checked against the bench file before the bench is opened: nothing starts on bad input.
  const unopened = boards.map((board) => endpointFor(board, ''));
  for (const suite of suites) planBoardSets(suite.ref, suite.manifest, unopened);
  // The bundle is read and checked before the bench opens, so a bad bundle touches no board.
  const app = options.app === undefined ? undefined : loadAppBundle(resolve(io.cwd, options.app));
  const junitPath = options.junit === undefined ? undefined : resolve(io.cwd, options.junit);
  if (junitPath !== undefined) checkWritableTarget(junitPath, '--junit');

  const reporters: RunReporter[] = [new ConsoleReporter({
    progress: io.stderr,
    summary: options.json === true ? io.stderr : io.stdout,
    color: io.stderr.isTTY === true,
  })];
  if (junitPath !== undefined) reporters.push(new JUnitReporter({ outputPath: junitPath }));
  if (options.json === true) reporters.push(new JsonReporter({ stream: io.stdout }));

  const abort = new AbortController();
  void io.interrupted.then((signal) => abort.abort(new HilError('ABORTED', `run interrupted by ${signal}`)));
  const leased = await openLeasedBench(bench, boards.map((b) => b.id), ['run', ...options.suites], options, {
    io, logger, abort, announce: `hil: opening bench "${bench.name}" (${boards.length} board${boards.length === 1 ? '' : 's'})\n`,
  });
  const session = leased.session;
  try {
    const preparation = firmware !== undefined
      ? new FirmwarePreparation({ plan: firmware.plan, ...(app ? { app } : {}), createFlasher: (boardLogger) => new EsptoolFlasher({ logger: boardLogger }) })
      : app !== undefined ? new AppDeployPreparation(app) : undefined;
    return await runSuites({
      suites, bench: session, reporters, signal: abort.signal, logger,
      ...(preparation ? { preparation } : {}),
      ...(firmware ? { expectedFirmwareVersion: firmware.plan.appVersion } : {}),
    });
  } catch (err: unknown) {
    io.stderr.write(`hil: ${describeError(err)}\n`);
    return exitCodeFor(err);
  } finally {
    await leased.close();
  }
}

/** The bench boards to use: all, or those named with --board (each must exist). */
export function selectBoards(bench: Bench, ids: readonly string[] | undefined): Bench['boards'] {
  for (const id of ids ?? []) {
    if (!bench.boards.some((board) => board.id === id)) {
      throw new HilError('USAGE', `--board ${id}: no such board in ${bench.file} (boards: ${bench.boards.map((b) => b.id).join(', ')})`);
    }
  }
  return bench.boards.filter((board) => ids === undefined || ids.includes(board.id));
}

/** Fails with USAGE unless `path` can be created as a file. */
export function checkWritableTarget(path: string, flag: string): void {
  if (existsSync(path) && statSync(path).isDirectory()) throw new HilError('USAGE', `${flag} ${path} is a directory; give a file name`);
  const parent = dirname(path);
  if (!existsSync(parent) || !statSync(parent).isDirectory()) throw new HilError('USAGE', `${flag} ${path}: folder ${parent} does not exist`);
}
