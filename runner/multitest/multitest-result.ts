/**
 * The outcome of one multitest run and how it is judged: the combined `--- instanceN ---` output is
 * compared exactly with the `.exp` file (/work/shared/reference/micropython-host-protocols.md §6.9),
 * and mapped onto a test case of the run-event stream.
 */
import type { HilError } from '../errors.ts';
import type { TestOutcome } from '../suite/run-events.ts';
import type { MultitestBoard } from './board-instance.ts';
import type { MultitestFile } from './multitest-file.ts';
import { unifiedDiff } from './unified-diff.ts';

/**
 * `pass`/`fail` from the comparison with the `.exp` (a missing `.exp` fails), `skip` when an instance
 * printed `SKIP` while starting, `error` when the rig could not run the test to its end (a board
 * stopped answering, rebooted unexpectedly, or the file asked for something impossible).
 */
export type MultitestVerdict = 'pass' | 'fail' | 'skip' | 'error';

/** What one instance printed and where it ran. */
export interface InstanceOutput {
  index: number;
  boardId: string;
  /** Recorded lines (control lines removed as §6.4 says; `TIMEOUT` and tracebacks included). */
  lines: string[];
  /** The board connection in use at the end; another object than the one passed in after a reconnect. */
  board: MultitestBoard;
}

/** Everything one run of a multitest file produced; one test case of the run-event stream. */
export interface MultitestResult {
  file: MultitestFile;
  /** `<file name> on <board>|<board>…`, as run-multitests.py names a run. */
  testName: string;
  verdict: MultitestVerdict;
  /** One line: why it failed, errored or was skipped. */
  message?: string;
  /** Evidence for a person: diff, output, expectation, console tail. */
  details?: string;
  instances: InstanceOutput[];
  /** The combined output compared with the `.exp`. */
  output: string;
  /** Unified diff from the expectation to the output, when both exist and differ. */
  diff?: string;
  /** Data of the `OUTPUT_METRIC` lines, in order. */
  metrics: string[];
  /** For the test case: `instanceN.board`, `metric.N` (1-based), `multitest.instances`. */
  properties: Record<string, string>;
  /** The rig error behind an `error` verdict (its `kind` says whether the test file or the rig is at fault). */
  error?: HilError;
  durationMs: number;
}

/** The combined output: per instance `--- instance<i> ---`, its lines joined with `\n`, then `\n`. */
export function combinedOutput(outputs: readonly string[][]): string {
  return outputs.map((lines, index) => `--- instance${index} ---\n${lines.join('\n')}\n`).join('');
}

/** What the comparison decided, with the evidence. */
export interface Judgement {
  verdict: 'pass' | 'fail';
  message?: string;
  diff?: string;
  details?: string;
}

/** Compares `output` with the file's expectation; a missing `.exp` is a failure, never a pass. */
export function judgeOutput(file: MultitestFile, output: string, outputs: readonly string[][]): Judgement {
  if (file.expected === undefined) {
    return {
      verdict: 'fail',
      message: `no .exp file: ${file.name}.exp does not exist, so the output cannot be judged`,
      details: `expected output file ${file.expPath} is missing; this run printed:\n${output}`,
    };
  }
  if (output === file.expected) return { verdict: 'pass' };
  const diff = unifiedDiff(file.expected, output, { from: `${file.name}.exp`, to: `${file.name} (this run)` });
  return {
    verdict: 'fail',
    message: `output differs from ${file.name}.exp${mismatchHint(outputs)}`,
    diff,
    details: `### DIFF ###\n${diff}### TEST ###\n${output}### TRUTH ###\n${file.expected}`,
  };
}

/** A short hint for the one-line message: which instance went silent or raised. */
function mismatchHint(outputs: readonly string[][]): string {
  const silent = outputs.findIndex((lines) => lines.includes('TIMEOUT'));
  if (silent >= 0) return ` (instance${silent} went silent: TIMEOUT)`;
  const raised = outputs.findIndex((lines) => lines.some((line) => line.startsWith('Traceback (most recent call last)')));
  if (raised >= 0) return ` (instance${raised} raised an exception)`;
  return '';
}

/** The fields of a `test-finished` run event for `result`. */
export function testFinishedFields(result: MultitestResult): {
  outcome: TestOutcome; message?: string; details?: string; properties: Record<string, string>;
} {
  const outcome: TestOutcome = { pass: 'passed', fail: 'failed', skip: 'skipped', error: 'error' }[result.verdict] as TestOutcome;
  return {
    outcome,
    ...(result.message !== undefined ? { message: result.message } : {}),
    ...(result.details !== undefined ? { details: result.details } : {}),
    properties: result.properties,
  };
}
