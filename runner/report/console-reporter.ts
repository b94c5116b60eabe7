/**
 * The run as people read it: progress lines while it runs (suite and boards, each test with ✓/✗/!/○
 * and its duration, progress messages) and a summary at the end (counts, then every failure with its
 * message and the first lines of its details). Progress and summary go to separate injected streams
 * (the CLI passes stderr and stdout); colour only where the stream is a TTY.
 */
import type { BoardFacts, RunEvent, RunReporter, TestOutcome } from '../suite/run-events.ts';
import { countOutcomes, type OutcomeCounts, suiteDisplayName, type TestRecord } from './run-record.ts';
import type { TextStream } from './text-stream.ts';

/** Options of {@link ConsoleReporter}. */
export interface ConsoleReporterOptions {
  /** Progress lines while the run goes (the CLI passes stderr). */
  progress: TextStream;
  /** The final summary (the CLI passes stdout). */
  summary: TextStream;
  /** Force colour on or off; default: per stream, on when it is a TTY. */
  color?: boolean;
  /** How many lines of a failure's details the summary shows; default 8. */
  detailLines?: number;
}

const ANSI = { red: 31, green: 32, yellow: 33, cyan: 36, dim: 2, bold: 1 } as const;
type Style = keyof typeof ANSI;

const MARK: Record<TestOutcome, { symbol: string; style: Style }> = {
  passed: { symbol: '✓', style: 'green' },
  failed: { symbol: '✗', style: 'red' },
  error: { symbol: '!', style: 'red' },
  skipped: { symbol: '○', style: 'yellow' },
};

interface FailureLine {
  suite: string;
  test: TestRecord;
}

/** Console output for a run. */
export class ConsoleReporter implements RunReporter {
  private readonly suiteNames = new Map<string, string>();
  private readonly suiteTests = new Map<string, TestRecord[]>();
  private readonly failures: FailureLine[] = [];
  private readonly allTests: TestRecord[] = [];
  private suiteCount = 0;
  private runDurationMs: number | undefined;
  private exitCode: number | undefined;
  private summaryWritten = false;

  constructor(private readonly options: ConsoleReporterOptions) {}

  onEvent(event: RunEvent): void {
    switch (event.type) {
      case 'run-started':
        this.progress(`${this.paint('bold', 'hil run')} ${event.runId} on ${event.benchName}: ${plural(event.suites.length, 'suite')}`);
        return;
      case 'suite-started': {
        const name = suiteDisplayName({ suiteName: event.suiteName, boards: event.boards });
        this.suiteNames.set(event.suiteId, name);
        this.suiteTests.set(event.suiteId, []);
        this.suiteCount++;
        this.progress(`\n${this.paint('bold', `▶ ${name}`)}`);
        for (const board of event.boards) this.progress(this.paint('dim', `  ${describeBoard(board)}`));
        return;
      }
      case 'test-started':
        return;
      case 'progress':
        this.progress(this.paint('dim', `  … ${oneLine(event.message)}`));
        return;
      case 'test-finished': {
        const test: TestRecord = {
          name: event.testName,
          outcome: event.outcome,
          startedAt: event.at - event.durationMs,
          durationMs: event.durationMs,
          message: event.message,
          details: event.details,
          properties: event.properties ?? {},
        };
        this.allTests.push(test);
        const suiteTests = this.suiteTests.get(event.suiteId);
        if (suiteTests === undefined) this.suiteTests.set(event.suiteId, [test]);
        else suiteTests.push(test);
        if (test.outcome === 'failed' || test.outcome === 'error') {
          this.failures.push({ suite: this.suiteNames.get(event.suiteId) ?? event.suiteId, test });
        }
        // Board sets run side by side, so each line names its suite and boards.
        this.progress(this.testLine(test, this.suiteNames.get(event.suiteId) ?? event.suiteId));
        return;
      }
      case 'suite-finished': {
        const counts = countOutcomes(this.suiteTests.get(event.suiteId) ?? []);
        const name = this.suiteNames.get(event.suiteId) ?? event.suiteId;
        this.progress(`  ${this.paint('dim', `${name}:`)} ${this.countsText(counts, this.paintFor(this.options.progress))} in ${seconds(event.durationMs)}`);
        return;
      }
      case 'run-finished':
        this.runDurationMs = event.durationMs;
        this.exitCode = event.exitCode;
        this.writeSummary();
        return;
    }
  }

  /** Writes the summary if the run ended without `run-finished` (e.g. it crashed). */
  async close(): Promise<void> {
    this.writeSummary();
  }

  private writeSummary(): void {
    if (this.summaryWritten) return;
    this.summaryWritten = true;
    const paint = this.paintFor(this.options.summary);
    const counts = countOutcomes(this.allTests);
    const lines: string[] = [''];
    const duration = this.runDurationMs === undefined ? '' : ` in ${seconds(this.runDurationMs)}`;
    lines.push(`${paint('bold', 'Tests:')} ${this.countsText(counts, paint)} (${plural(this.suiteCount, 'suite')})${duration}`);
    if (this.failures.length > 0) {
      lines.push('', paint('bold', 'Failures:'));
      const maxLines = this.options.detailLines ?? 8;
      for (const { suite, test } of this.failures) {
        const mark = MARK[test.outcome];
        lines.push(`  ${paint(mark.style, mark.symbol)} ${suite} › ${oneLine(test.name)}${test.message ? `: ${oneLine(test.message)}` : ''}`);
        const details = (test.details ?? '').replace(/\r\n?/g, '\n').replace(/\n+$/, '').split('\n').map(visible);
        if (details.length === 1 && details[0] === '') continue;
        for (const line of details.slice(0, maxLines)) lines.push(paint('dim', `      ${line}`));
        if (details.length > maxLines) lines.push(paint('dim', `      … ${details.length - maxLines} more line(s)`));
      }
    }
    const passed = counts.failed === 0 && counts.errors === 0 && (this.exitCode === undefined || this.exitCode === 0);
    const verdict = passed ? paint('green', 'PASSED') : paint('red', 'FAILED');
    lines.push('', `Result: ${verdict}${this.exitCode === undefined ? '' : ` (exit code ${this.exitCode})`}`, '');
    this.options.summary.write(lines.join('\n'));
  }

  private testLine(test: TestRecord, suite: string): string {
    const mark = MARK[test.outcome];
    const symbol = this.paint(mark.style, mark.symbol);
    const time = this.paint('dim', `(${seconds(test.durationMs)})`);
    const name = `${this.paint('dim', `${suite} ›`)} ${oneLine(test.name)}`;
    if (test.outcome === 'skipped') return `  ${symbol} ${name} ${this.paint('yellow', 'skipped')}${test.message ? `: ${oneLine(test.message)}` : ''}`;
    const message = test.message ? ` ${this.paint(mark.style, `— ${oneLine(test.message)}`)}` : '';
    return `  ${symbol} ${name} ${time}${message}`;
  }

  private countsText(counts: OutcomeCounts, paint: (style: Style, text: string) => string): string {
    const parts = [`${counts.tests} total`, paint('green', `${counts.passed} passed`)];
    parts.push(counts.failed > 0 ? paint('red', `${counts.failed} failed`) : `${counts.failed} failed`);
    parts.push(counts.errors > 0 ? paint('red', plural(counts.errors, 'error')) : plural(counts.errors, 'error'));
    parts.push(counts.skipped > 0 ? paint('yellow', `${counts.skipped} skipped`) : `${counts.skipped} skipped`);
    return parts.join(', ');
  }

  private progress(line: string): void {
    this.options.progress.write(`${line}\n`);
  }

  private paint(style: Style, text: string): string {
    return this.paintFor(this.options.progress)(style, text);
  }

  private paintFor(stream: TextStream): (style: Style, text: string) => string {
    const color = this.options.color ?? stream.isTTY === true;
    return color ? (style, text) => `\x1b[${ANSI[style]}m${text}\x1b[0m` : (_style, text) => text;
  }
}

function describeBoard(board: BoardFacts): string {
  const facts = [board.chip, board.firmwareVersion, board.mac].filter((fact) => fact.length > 0).join(' ');
  return `${board.boardId}: ${facts}${facts.length > 0 ? ' ' : ''}at ${board.portPath} (${board.linkUrl})`;
}

/**
 * Board text shown on a terminal: control characters (ESC, NUL, Ctrl-D …) as `\xNN`, so a board cannot
 * move the cursor or recolour the console, and nothing invisible hides in a message.
 */
function visible(text: string): string {
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A message on one line: line breaks become spaces, control characters visible. */
function oneLine(text: string): string {
  return visible(text.replace(/\s*[\r\n]+\s*/g, ' ').trim());
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** Durations for people: `120 ms` below a second, else seconds with two decimals. */
function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}
