/**
 * The typed event stream of a run. JUnit, the console, JSON output (and later the dashboard and the
 * results store) are all fed from these events; nothing else reports results.
 */

/** Facts about one board, recorded as JUnit `<properties>`. */
export interface BoardFacts {
  boardId: string;
  /** USB hub port path, e.g. `1-1.3`; the board's identity. */
  portPath: string;
  /** e.g. `rfc2217://127.0.0.1:40001` or `/dev/ttyACM0`. */
  linkUrl: string;
  chip: string;
  /** `aa:bb:cc:dd:ee:ff`, lowercase. Empty until read from the board. */
  mac: string;
  /** e.g. `v1.24.1`. Empty until read from the board. */
  firmwareVersion: string;
  /** The full `os.uname().machine` string, when known. */
  machine?: string;
}

export type TestOutcome = 'passed' | 'failed' | 'error' | 'skipped';

export type RunEvent =
  | { type: 'run-started'; runId: string; at: number; suites: string[]; benchName: string }
  | { type: 'suite-started'; suiteId: string; suiteName: string; at: number; boards: BoardFacts[] }
  | { type: 'test-started'; suiteId: string; testName: string; at: number }
  /** Progress inside a long test or phase, for the console; not written to JUnit. */
  | { type: 'progress'; suiteId?: string; message: string; at: number }
  | {
      type: 'test-finished';
      suiteId: string;
      testName: string;
      at: number;
      durationMs: number;
      outcome: TestOutcome;
      /** One line: why it failed / errored / was skipped. */
      message?: string;
      /** Evidence: traceback, expected vs got, console excerpt. */
      details?: string;
      /** Extra facts the test recorded (e.g. timings), written as JUnit properties of the test case. */
      properties?: Record<string, string>;
    }
  | {
      type: 'suite-finished';
      suiteId: string;
      at: number;
      durationMs: number;
      /** Everything the boards printed during the suite, per board id. */
      console: Record<string, string>;
      /** Suite-level properties (e.g. measurements), besides the board facts. */
      properties?: Record<string, string>;
    }
  | { type: 'run-finished'; at: number; durationMs: number; exitCode: number };

/** Anything that consumes run events: JUnit writer, console, JSON lines, dashboard. */
export interface RunReporter {
  onEvent(event: RunEvent): void;
  /** Called once after `run-finished`; writes files, flushes output. */
  close?(): Promise<void>;
}
