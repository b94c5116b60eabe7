/**
 * The whole run as one JSON document, written on close — for scripts, the results store and nightly
 * comparisons. Times are ISO 8601 UTC strings (`startedAt`) and milliseconds (`durationMs`).
 */
import type { BoardFacts, RunEvent, RunReporter, TestOutcome } from '../suite/run-events.ts';
import { countOutcomes, countRun, RunRecorder, suiteDisplayName, type OutcomeCounts, type RunRecord } from './run-record.ts';
import type { TextStream } from './text-stream.ts';

/** Version of {@link JsonRunReport}'s shape; bump on incompatible changes. */
export const JSON_REPORT_VERSION = 1;

/** One test in the JSON report. */
export interface JsonTestReport {
  name: string;
  outcome: TestOutcome;
  startedAt: string | null;
  durationMs: number;
  message?: string;
  details?: string;
  properties: Record<string, string>;
}

/** One suite in the JSON report. */
export interface JsonSuiteReport {
  suiteId: string;
  name: string;
  /** Name with the board set, e.g. `smoke [s3-a]` (as in JUnit). */
  displayName: string;
  boards: BoardFacts[];
  startedAt: string | null;
  durationMs: number;
  /** False when the run ended before the suite reported its end. */
  finished: boolean;
  totals: OutcomeCounts;
  properties: Record<string, string>;
  /** Console output per board id. */
  console: Record<string, string>;
  tests: JsonTestReport[];
}

/** The document {@link JsonReporter} writes. */
export interface JsonRunReport {
  version: number;
  runId: string | null;
  benchName: string | null;
  startedAt: string | null;
  durationMs: number;
  exitCode: number | null;
  finished: boolean;
  totals: OutcomeCounts;
  suites: JsonSuiteReport[];
}

/** Options of {@link JsonReporter}. */
export interface JsonReporterOptions {
  /** Where the document goes on close (e.g. stdout, or a file stream). */
  stream: TextStream;
  /** Indentation; default 2. Use 0 for one line. */
  indent?: number;
}

/** Collects the run and writes it as JSON on {@link close}. */
export class JsonReporter implements RunReporter {
  private readonly recorder = new RunRecorder();

  constructor(private readonly options: JsonReporterOptions) {}

  onEvent(event: RunEvent): void {
    this.recorder.onEvent(event);
  }

  /** The report for everything received so far. */
  report(): JsonRunReport {
    return toJsonReport(this.recorder.snapshot());
  }

  async close(): Promise<void> {
    const indent = this.options.indent ?? 2;
    this.options.stream.write(`${JSON.stringify(this.report(), null, indent === 0 ? undefined : indent)}\n`);
  }
}

function iso(epochMs: number | undefined): string | null {
  return epochMs === undefined ? null : new Date(epochMs).toISOString();
}

/** Converts a {@link RunRecord} to the JSON document shape. */
export function toJsonReport(run: RunRecord): JsonRunReport {
  return {
    version: JSON_REPORT_VERSION,
    runId: run.runId ?? null,
    benchName: run.benchName ?? null,
    startedAt: iso(run.startedAt),
    durationMs: run.durationMs,
    exitCode: run.exitCode ?? null,
    finished: run.finished,
    totals: countRun(run),
    suites: run.suites.map((suite) => ({
      suiteId: suite.suiteId,
      name: suite.suiteName,
      displayName: suiteDisplayName(suite),
      boards: suite.boards,
      startedAt: iso(suite.startedAt),
      durationMs: suite.durationMs,
      finished: suite.finished,
      totals: countOutcomes(suite.tests),
      properties: suite.properties,
      console: suite.console,
      tests: suite.tests.map((test) => ({
        name: test.name,
        outcome: test.outcome,
        startedAt: iso(test.startedAt),
        durationMs: test.durationMs,
        ...(test.message === undefined ? {} : { message: test.message }),
        ...(test.details === undefined ? {} : { details: test.details }),
        properties: test.properties,
      })),
    })),
  };
}
