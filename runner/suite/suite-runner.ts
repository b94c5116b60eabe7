/**
 * The suite engine: places each suite on board sets, connects the boards, runs the test cases and emits
 * the run-event stream that every reporter consumes. Returns the CLI exit code: 0 all passed,
 * 1 test failures, 3 infrastructure errors (which make a verdict unreliable, so they win).
 */
import { randomUUID } from 'node:crypto';
import type { BenchSession, BoardEndpoint } from '../bench/board-endpoint.ts';
import { ExitCode, exitCodeFor, HilError, isHilError } from '../errors.ts';
import { openLink } from '../link/open-link.ts';
import type { Logger } from '../logger.ts';
import { systemClock, type Clock } from '../repl/clock.ts';
import { planBoardSets } from './board-allocation.ts';
import { BoardConnection, type LinkOpener } from './board-connection.ts';
import type { RunEvent, RunReporter, TestOutcome } from './run-events.ts';
import type { LoadedSuite } from './suite-loader.ts';
import { StepRunner } from './step-runner.ts';
import { BenchStepRunner } from './bench-step-runner.ts';
import { recoverBoard } from './recovery-ladder.ts';
import { isBenchStep, isMultitestStep, type BenchStep, type BoardStep, type MultitestStep } from './suite-manifest.ts';
import { runMultitest } from '../multitest/multitest-engine.ts';
import type { MultitestBoard } from '../multitest/board-instance.ts';
import { createBoardLinkReopener, type BoardLinkReopener } from '../bench/board-link-reopener.ts';
import { runMultitestRoles } from '../multitest/role-assignments.ts';
import { testFinishedFields } from '../multitest/multitest-result.ts';

export interface RunSuitesRequest {
  suites: readonly LoadedSuite[];
  bench: BenchSession;
  reporters: readonly RunReporter[];
  logger: Logger;
  signal?: AbortSignal;
  clock?: Clock;
  /** How links are opened; default: `openLink` (RFC 2217 URLs and ttys). */
  openLink?: LinkOpener;
  /** Work done once on every board the run uses, before any suite (flash firmware, deploy the app). */
  preparation?: BoardPreparation;
  /** The version of the firmware flashed for this run (`--firmware`), for `check-firmware-version` steps. */
  expectedFirmwareVersion?: string;
}

/** Prepares a board before the suites run. Bad input aborts the run; other errors make the board's tests errors. */
export interface BoardPreparation {
  prepare(endpoint: BoardEndpoint, context: {
    openLink: LinkOpener;
    /** Finds a board's serial port again by port path after it re-enumerated (native USB resets). */
    reopen?: BoardLinkReopener;
    logger: Logger;
    progress: (message: string) => void;
    signal?: AbortSignal;
  }): Promise<void>;
}

interface Tally { failed: number; errors: number }

export async function runSuites(request: RunSuitesRequest): Promise<number> {
  const clock = request.clock ?? systemClock;
  const emit = (event: RunEvent): void => { for (const reporter of request.reporters) reporter.onEvent(event); };
  const startedAt = clock.now();
  const tally: Tally = { failed: 0, errors: 0 };
  // Placement problems are bad input: check every suite before the first board is touched.
  const plans = request.suites.map((suite) => ({ suite, sets: planBoardSets(suite.ref, suite.manifest, request.bench.boards) }));
  emit({ type: 'run-started', runId: randomUUID(), at: startedAt, suites: request.suites.map((s) => s.manifest.name), benchName: request.bench.name });
  let exitCode: number = ExitCode.passed;
  try {
    const unusable = await prepareBoards(plans.flatMap(({ sets }) => sets.flat()), { ...request, clock, emit, tally });
    for (const { suite, sets } of plans) {
      await runSuite(suite, sets, { ...request, clock, emit, tally, unusable });
    }
    exitCode = tally.errors > 0 ? ExitCode.infrastructure : tally.failed > 0 ? ExitCode.testFailures : ExitCode.passed;
  } catch (err: unknown) {
    exitCode = exitCodeFor(err);
    throw err;
  } finally {
    emit({ type: 'run-finished', at: clock.now(), durationMs: clock.now() - startedAt, exitCode });
    for (const reporter of request.reporters) await reporter.close?.();
  }
  return exitCode;
}

interface SuiteContext extends RunSuitesRequest {
  clock: Clock;
  emit: (event: RunEvent) => void;
  tally: Tally;
  /** Boards whose preparation failed, with the error. */
  unusable?: ReadonlyMap<string, unknown>;
}

/** Runs the preparation on each distinct board; returns the boards it failed on (infrastructure errors). */
async function prepareBoards(endpoints: BoardEndpoint[], context: SuiteContext): Promise<Map<string, unknown>> {
  const failures = new Map<string, unknown>();
  const preparation = context.preparation;
  if (preparation === undefined) return failures;
  const distinct = [...new Map(endpoints.map((endpoint) => [endpoint.boardId, endpoint])).values()];
  const reopen = createBoardLinkReopener({ usb: context.bench.usb, openLink: context.openLink ?? openLink, clock: context.clock, logger: context.logger });
  const results = await Promise.allSettled(distinct.map((endpoint) => preparation.prepare(endpoint, {
    openLink: context.openLink ?? openLink,
    reopen,
    logger: context.logger.child({ board: endpoint.boardId }),
    progress: (message) => context.emit({ type: 'progress', message: `${endpoint.boardId}: ${message}`, at: context.clock.now() }),
    ...(context.signal ? { signal: context.signal } : {}),
  })));
  results.forEach((result, index) => {
    if (result.status === 'fulfilled') return;
    if (result.reason instanceof HilError && result.reason.kind === 'bad-input') throw result.reason;
    failures.set(distinct[index]?.boardId ?? '', result.reason);
  });
  return failures;
}

async function runSuite(suite: LoadedSuite, sets: BoardEndpoint[][], context: SuiteContext): Promise<void> {
  const opener = context.openLink ?? openLink;
  const connections = new Map<string, BoardConnection>();
  const connectErrors = new Map<string, unknown>();
  context.emit({ type: 'progress', message: `${suite.manifest.name}: connecting ${sets.flat().length} board(s)`, at: context.clock.now() });
  await Promise.all(sets.flat().map(async (endpoint) => {
    if (!suite.manifest.connect) return;
    const unusable = context.unusable?.get(endpoint.boardId);
    if (unusable !== undefined) {
      connectErrors.set(endpoint.boardId, unusable);
      return;
    }
    try {
      const reopen = createBoardLinkReopener({ usb: context.bench.usb, openLink: opener, clock: context.clock, logger: context.logger });
      connections.set(endpoint.boardId, await BoardConnection.connect(endpoint, opener, context.logger, { reopen, clock: context.clock, ...(context.signal ? { signal: context.signal } : {}) }));
    } catch (err: unknown) {
      connectErrors.set(endpoint.boardId, err);
    }
  }));
  try {
    // A port held by someone else is bad input (exit 2): stop before any test runs.
    const inUse = [...connectErrors.values()].find((err) => isHilError(err, 'PORT_IN_USE'));
    if (inUse) throw inUse;
    await Promise.all(sets.map((set, index) => runBoardSet(suite, set, `${suite.manifest.name}#${index + 1}`, connections, connectErrors, context)));
  } finally {
    await Promise.all([...connections.values()].map((connection) => connection.close()));
  }
}

async function runBoardSet(suite: LoadedSuite, set: BoardEndpoint[], suiteId: string, connections: Map<string, BoardConnection>,
  connectErrors: Map<string, unknown>, context: SuiteContext): Promise<void> {
  const { clock, emit } = context;
  const startedAt = clock.now();
  const boards = set.map((endpoint) => connections.get(endpoint.boardId));
  emit({
    type: 'suite-started', suiteId, suiteName: suite.manifest.name, at: startedAt,
    boards: set.map((endpoint, i) => boards[i]?.facts ?? { boardId: endpoint.boardId, portPath: endpoint.portPath, linkUrl: endpoint.linkUrl, chip: endpoint.chip, mac: '', firmwareVersion: '' }),
  });
  const connectError = set.map((endpoint) => connectErrors.get(endpoint.boardId)).find((err) => err !== undefined);
  let brokenReason: string | undefined = connectError === undefined ? undefined : `board unavailable: ${errorText(connectError)}`;
  let brokenDetails: string | undefined = connectError === undefined ? undefined : errorDetails(connectError);
  const stepRunner = new StepRunner(suite.scripts, clock, context.expectedFirmwareVersion, { usb: context.bench.usb, logger: context.logger });
  const benchStepRunner = new BenchStepRunner({
    usb: context.bench.usb, openLink: context.openLink ?? openLink, logger: context.logger, clock,
    ...(context.signal ? { signal: context.signal } : {}),
  });

  for (const test of suite.manifest.tests) {
    const testStartedAt = clock.now();
    emit({ type: 'test-started', suiteId, testName: test.name, at: testStartedAt });
    const finish = (outcome: TestOutcome, message?: string, details?: string, properties?: Record<string, string>): void => {
      if (outcome === 'failed') context.tally.failed++;
      if (outcome === 'error') context.tally.errors++;
      emit({ type: 'test-finished', suiteId, testName: test.name, at: clock.now(), durationMs: clock.now() - testStartedAt, outcome,
        ...(message !== undefined ? { message } : {}), ...(details !== undefined ? { details } : {}), ...(properties ? { properties } : {}) });
    };
    const skipped = test.skip && set.some((endpoint) => test.skip?.chips.includes(endpoint.chip));
    if (skipped) { finish('skipped', test.skip?.reason); continue; }
    if (context.expectedFirmwareVersion === undefined && test.steps.some((step) => 'check-firmware-version' in step)) {
      finish('skipped', 'no --firmware given: nothing to compare the booted version with');
      continue;
    }
    if (brokenReason !== undefined) { finish('error', brokenReason, brokenDetails); continue; }
    const properties: Record<string, string> = {};
    const multitest = test.steps.find(isMultitestStep);
    if (multitest !== undefined) {
      const outcome = await runMultitestStep(suite, multitest, boards, context);
      finish(outcome.outcome, outcome.message, outcome.details, outcome.properties);
      if (outcome.infrastructure) {
        brokenReason = await recover(boards, outcome.message, context);
        brokenDetails = undefined;
      }
      continue;
    }
    try {
      let failure: { message: string; details: string } | undefined;
      // A test runs either bench steps (once for the set, from the host) or board steps (on each board).
      const benchTest = test.steps.every(isBenchStep);
      if (benchTest) {
        const result = await benchStepRunner.run(test.steps as BenchStep[], set);
        Object.assign(properties, result.properties);
        if (result.skipped !== undefined) { finish('skipped', result.skipped, undefined, properties); continue; }
        failure = result.failure;
      }
      for (const board of benchTest ? [] : boards) {
        if (!board) continue;
        const result = await stepRunner.run(test.steps as BoardStep[], board, context.signal);
        for (const [key, value] of Object.entries(result.properties)) properties[set.length > 1 ? `${board.endpoint.boardId}.${key}` : key] = value;
        if (result.failure) { failure = result.failure; break; }
      }
      if (failure) finish('failed', failure.message, failure.details, properties);
      else finish('passed', undefined, undefined, properties);
    } catch (err: unknown) {
      if (isHilError(err) && typeof err.evidence.properties === 'object' && err.evidence.properties !== null) {
        Object.assign(properties, err.evidence.properties as Record<string, string>);
      }
      finish('error', errorText(err), errorDetails(err), properties);
      if (!suite.manifest.connect) continue;
      brokenReason = await recover(boards, err, context);
      brokenDetails = undefined;
    }
  }
  emit({
    type: 'suite-finished', suiteId, at: clock.now(), durationMs: clock.now() - startedAt,
    // A board that never answered still gets its console: what the failed connection saw of it.
    console: Object.fromEntries(set.map((endpoint, i) =>
      [endpoint.boardId, boards[i]?.consoleText() ?? consoleFromError(connectErrors.get(endpoint.boardId))])),
  });
}

/**
 * Runs a multitest file on the first boards of the set (or, with `roles`, under several assignments of
 * instances to the set's boards); the verdicts become the test's outcome: an error wins, then a
 * failure; skipped only when every run skipped.
 */
/** A board that announced a reboot must be back on the bus (and at the raw prompt) within this. */
const RECONNECT_AFTER_REBOOT_MS = 15_000;

async function runMultitestStep(suite: LoadedSuite, step: MultitestStep, boards: (BoardConnection | undefined)[], context: SuiteContext):
  Promise<ReturnType<typeof testFinishedFields> & { infrastructure: boolean }> {
  const file = suite.multitests.get(step.multitest);
  if (file === undefined) throw new HilError('SUITE_INVALID', `suite ${suite.ref}: multitest ${step.multitest} was not loaded`);
  const connected = boards.filter((board): board is BoardConnection => board !== undefined);
  const options = {
    logger: context.logger, clock: context.clock, instanceTimeoutMs: step.instanceTimeoutMs,
    ...(context.signal ? { signal: context.signal } : {}),
    // A native-USB board leaves the bus on an announced hard reset: found again by its port path.
    reconnect: async (board: MultitestBoard, signal?: AbortSignal): Promise<MultitestBoard> => {
      const connection = connected.find((c) => c.endpoint.boardId === board.endpoint.boardId);
      if (connection === undefined) throw new HilError('LINK_GONE', `board ${board.endpoint.boardId} vanished and is not one of this run's connections`);
      await connection.reconnect({ deadlineMs: RECONNECT_AFTER_REBOOT_MS, ...(signal ? { signal } : {}) });
      return connection;
    },
  };
  const results = step.roles === 1
    ? [await runMultitest(file, connected.slice(0, file.instanceCount), options)]
    : await runMultitestRoles(file, connected, { ...options, assignments: step.roles });
  const infrastructure = results.some((r) => r.verdict === 'error' && r.error?.kind === 'infrastructure');
  if (results.length === 1) return { ...testFinishedFields(results[0]!), infrastructure };
  const fields = results.map(testFinishedFields);
  const rank = { error: 3, failed: 2, passed: 1, skipped: 0 } as const;
  const worst = fields.reduce((a, b) => (rank[b.outcome] > rank[a.outcome] ? b : a));
  const properties: Record<string, string> = { 'roles.runs': String(results.length) };
  results.forEach((result, index) => {
    for (const [key, value] of Object.entries(fields[index]!.properties)) properties[`roles${index + 1}.${key}`] = value;
    properties[`roles${index + 1}.assignment`] = result.testName;
  });
  const bad = results.map((result, index) => ({ result, field: fields[index]! })).filter(({ field }) => field.outcome === worst.outcome);
  return {
    outcome: worst.outcome,
    ...(worst.outcome !== 'passed' ? { message: `${bad.length} of ${results.length} role assignments ${worst.outcome}: ${bad[0]!.result.testName}: ${bad[0]!.field.message ?? ''}` } : {}),
    details: fields.map((field, index) => `### ${results[index]!.testName}: ${field.outcome}${field.message ? ` — ${field.message}` : ''}\n${field.details ?? ''}`).join('\n'),
    properties,
    infrastructure,
  };
}

/**
 * After an infrastructure error, climb the recovery ladder on each board (interrupt, soft reset, hard
 * reset, hub port power cycle); returns why a board stays unavailable, if one does.
 */
async function recover(boards: (BoardConnection | undefined)[], cause: unknown, context: SuiteContext): Promise<string | undefined> {
  if (context.signal?.aborted) return 'run aborted';
  for (const board of boards) {
    if (!board) continue;
    try {
      const rung = await recoverBoard(board, {
        usb: context.bench.usb, clock: context.clock, logger: context.logger, ...(context.signal ? { signal: context.signal } : {}),
      });
      context.emit({ type: 'progress', message: `${board.endpoint.boardId}: recovered by ${rung}`, at: context.clock.now() });
    } catch (err: unknown) {
      context.logger.warn({ err, cause }, 'board did not recover after an infrastructure error');
      return `board unavailable after an earlier error: ${errorText(err)}`;
    }
  }
  return undefined;
}

function consoleFromError(err: unknown): string {
  return err instanceof HilError && typeof err.evidence.consoleTail === 'string' ? err.evidence.consoleTail : '';
}

function errorText(err: unknown): string {
  if (err instanceof HilError) return `${err.message} [${err.code}]`;
  return err instanceof Error ? err.message : String(err);
}

function errorDetails(err: unknown): string | undefined {
  if (!(err instanceof HilError)) return err instanceof Error ? err.stack : undefined;
  const tail = err.evidence.consoleTail;
  return [`code: ${err.code}`, err.evidence.phase ? `phase: ${err.evidence.phase}` : '', tail ? `last console output:\n${String(tail)}` : '']
    .filter(Boolean).join('\n');
}
