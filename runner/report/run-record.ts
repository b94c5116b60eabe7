/**
 * Folds the run-event stream into one plain record of the run (suites, boards, tests, outcomes), which
 * the JUnit and JSON reporters render. Tolerant of incomplete streams (a crashed run): tests that
 * started but never finished become errors, suites without `suite-finished` get their time from their
 * tests, events for unknown suites create a placeholder suite.
 */
import type { BoardFacts, RunEvent, TestOutcome } from '../suite/run-events.ts';

/** One test case as reported. Times are epoch milliseconds as in the events. */
export interface TestRecord {
  name: string;
  outcome: TestOutcome;
  startedAt: number | undefined;
  durationMs: number;
  message: string | undefined;
  details: string | undefined;
  properties: Record<string, string>;
}

/** One suite run on one set of boards. */
export interface SuiteRecord {
  suiteId: string;
  suiteName: string;
  boards: BoardFacts[];
  startedAt: number | undefined;
  durationMs: number;
  finished: boolean;
  tests: TestRecord[];
  /** Console output per board id. */
  console: Record<string, string>;
  properties: Record<string, string>;
}

/** The whole run. */
export interface RunRecord {
  runId: string | undefined;
  benchName: string | undefined;
  startedAt: number | undefined;
  durationMs: number;
  exitCode: number | undefined;
  finished: boolean;
  suites: SuiteRecord[];
}

/** Test counts by outcome. */
export interface OutcomeCounts {
  tests: number;
  passed: number;
  failed: number;
  errors: number;
  skipped: number;
}

/** Message given to tests that never reported an end. */
export const UNFINISHED_MESSAGE = 'test did not finish (the run ended before it reported a result)';

/** Counts outcomes of `tests`. */
export function countOutcomes(tests: readonly TestRecord[]): OutcomeCounts {
  const counts: OutcomeCounts = { tests: tests.length, passed: 0, failed: 0, errors: 0, skipped: 0 };
  for (const test of tests) {
    if (test.outcome === 'passed') counts.passed++;
    else if (test.outcome === 'failed') counts.failed++;
    else if (test.outcome === 'error') counts.errors++;
    else counts.skipped++;
  }
  return counts;
}

/** Sums counts over suites. */
export function countRun(run: RunRecord): OutcomeCounts {
  return countOutcomes(run.suites.flatMap((suite) => suite.tests));
}

/** A suite's name with its board set, e.g. `smoke [s3-a]` or `espnow [s3-a, s3-b]`. */
export function suiteDisplayName(suite: Pick<SuiteRecord, 'suiteName' | 'boards'>): string {
  if (suite.boards.length === 0) return suite.suiteName;
  return `${suite.suiteName} [${suite.boards.map((board) => board.boardId).join(', ')}]`;
}

interface OpenTest {
  name: string;
  startedAt: number;
}

interface SuiteState {
  record: SuiteRecord;
  open: OpenTest[];
}

/** Collects events; {@link snapshot} gives the record so far. */
export class RunRecorder {
  private runId: string | undefined;
  private benchName: string | undefined;
  private startedAt: number | undefined;
  private finishedAt: number | undefined;
  private durationMs: number | undefined;
  private exitCode: number | undefined;
  private readonly suites = new Map<string, SuiteState>();
  private lastEventAt: number | undefined;

  onEvent(event: RunEvent): void {
    this.lastEventAt = event.at;
    switch (event.type) {
      case 'run-started':
        this.runId = event.runId;
        this.benchName = event.benchName;
        this.startedAt = event.at;
        return;
      case 'suite-started': {
        const state = this.suite(event.suiteId, event.suiteName);
        state.record.suiteName = event.suiteName;
        state.record.boards = event.boards.map((board) => ({ ...board }));
        state.record.startedAt = event.at;
        return;
      }
      case 'test-started':
        this.suite(event.suiteId).open.push({ name: event.testName, startedAt: event.at });
        return;
      case 'test-finished': {
        const state = this.suite(event.suiteId);
        const index = state.open.findIndex((test) => test.name === event.testName);
        const started = index >= 0 ? state.open.splice(index, 1)[0] : undefined;
        state.record.tests.push({
          name: event.testName,
          outcome: event.outcome,
          startedAt: started?.startedAt ?? event.at - event.durationMs,
          durationMs: event.durationMs,
          message: event.message,
          details: event.details,
          properties: { ...(event.properties ?? {}) },
        });
        return;
      }
      case 'suite-finished': {
        const state = this.suite(event.suiteId);
        state.record.durationMs = event.durationMs;
        state.record.finished = true;
        state.record.console = { ...event.console };
        state.record.properties = { ...(event.properties ?? {}) };
        return;
      }
      case 'run-finished':
        this.finishedAt = event.at;
        this.durationMs = event.durationMs;
        this.exitCode = event.exitCode;
        return;
      case 'progress':
        return;
    }
  }

  /** The run as recorded so far; a deep copy, safe to keep. */
  snapshot(): RunRecord {
    const endAt = this.finishedAt ?? this.lastEventAt;
    const suites = [...this.suites.values()].map((state) => this.suiteSnapshot(state, endAt));
    const suiteTime = suites.reduce((sum, suite) => sum + suite.durationMs, 0);
    return {
      runId: this.runId,
      benchName: this.benchName,
      startedAt: this.startedAt ?? suites[0]?.startedAt,
      durationMs: this.durationMs ?? (this.startedAt !== undefined && endAt !== undefined ? endAt - this.startedAt : suiteTime),
      exitCode: this.exitCode,
      finished: this.finishedAt !== undefined,
      suites,
    };
  }

  private suiteSnapshot(state: SuiteState, endAt: number | undefined): SuiteRecord {
    const tests = state.record.tests.map((test) => ({ ...test, properties: { ...test.properties } }));
    for (const open of state.open) {
      tests.push({
        name: open.name,
        outcome: 'error',
        startedAt: open.startedAt,
        durationMs: endAt === undefined ? 0 : Math.max(0, endAt - open.startedAt),
        message: UNFINISHED_MESSAGE,
        details: undefined,
        properties: {},
      });
    }
    const record = state.record;
    const durationMs = record.finished ? record.durationMs : tests.reduce((sum, test) => sum + test.durationMs, 0);
    return {
      ...record,
      boards: record.boards.map((board) => ({ ...board })),
      durationMs,
      tests,
      console: { ...record.console },
      properties: { ...record.properties },
    };
  }

  private suite(suiteId: string, suiteName = suiteId): SuiteState {
    let state = this.suites.get(suiteId);
    if (state === undefined) {
      state = {
        record: {
          suiteId,
          suiteName,
          boards: [],
          startedAt: undefined,
          durationMs: 0,
          finished: false,
          tests: [],
          console: {},
          properties: {},
        },
        open: [],
      };
      this.suites.set(suiteId, state);
    }
    return state;
  }
}
