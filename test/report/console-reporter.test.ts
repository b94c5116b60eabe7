import { describe, expect, it } from 'vitest';
import { ConsoleReporter } from '../../runner/report/console-reporter.ts';
import { StringStream } from '../../runner/report/text-stream.ts';
import { sampleRun } from './sample-run.ts';

function run(options: { tty?: boolean; color?: boolean; detailLines?: number } = {}): { progress: string; summary: string } {
  const progress = new StringStream(options.tty ?? false);
  const summary = new StringStream(options.tty ?? false);
  const reporter = new ConsoleReporter({
    progress,
    summary,
    ...(options.color === undefined ? {} : { color: options.color }),
    ...(options.detailLines === undefined ? {} : { detailLines: options.detailLines }),
  });
  for (const event of sampleRun()) reporter.onEvent(event);
  return { progress: progress.text(), summary: summary.text() };
}

describe('ConsoleReporter', () => {
  it('writes progress lines as the run goes, without colour on a non-TTY', () => {
    const { progress } = run();
    expect(progress).not.toContain('\x1b[');
    expect(progress.split('\n')).toEqual([
      'hil run run-42 on virtual-lab: 2 suites',
      '',
      '▶ smoke [s3-a]',
      '  s3-a: esp32s3 v1.24.1 aa:bb:cc:00:00:01 at 1-1.3 (rfc2217://127.0.0.1:40001)',
      '  ✓ smoke [s3-a] › boots to REPL (1.23 s)',
      '  … uploading test files',
      '  ✗ smoke [s3-a] › prints <hello> & bye (500 ms) — output differs second line \\x1b[31m',
      '  ○ smoke [s3-a] › usb device skipped: needs machine.USBDevice (v1.23+)',
      '  smoke [s3-a]: 3 total, 1 passed, 1 failed, 0 errors, 1 skipped in 1.99 s',
      '',
      '▶ espnow [s3-a, s3-b]',
      '  s3-a: esp32s3 v1.24.1 aa:bb:cc:00:00:01 at 1-1.3 (rfc2217://127.0.0.1:40001)',
      '  s3-b: esp32s3 v1.24.1 at 1-1.4 (rfc2217://127.0.0.1:40002)',
      '  ! espnow [s3-a, s3-b] › ping pong (10.00 s) — TIMEOUT: no reply from s3-b within 10000 ms',
      '  espnow [s3-a, s3-b]: 1 total, 0 passed, 0 failed, 1 error, 0 skipped in 10.20 s',
      '',
    ]);
  });

  it('writes a summary with counts and failure details to the summary stream only', () => {
    const { progress, summary } = run({ detailLines: 3 });
    expect(progress).not.toContain('Tests:');
    expect(summary).toBe(
      [
        '',
        'Tests: 4 total, 1 passed, 1 failed, 1 error, 1 skipped (2 suites) in 12.40 s',
        '',
        'Failures:',
        '  ✗ smoke [s3-a] › prints <hello> & bye: output differs second line \\x1b[31m',
        '      expected: hello',
        '           got: he\\x00llo ]]> <b>&amp;',
        '      line 3',
        '      … 7 more line(s)',
        '  ! espnow [s3-a, s3-b] › ping pong: TIMEOUT: no reply from s3-b within 10000 ms',
        '      Traceback (most recent call last):',
        '        File "<stdin>", line 3',
        '      OSError: [Errno 116] ETIMEDOUT',
        '',
        'Result: FAILED (exit code 1)',
        '',
      ].join('\n'),
    );
  });

  it('colours output on a TTY, or when forced', () => {
    expect(run({ tty: true }).progress).toContain('\x1b[32m✓\x1b[0m');
    expect(run({ tty: true }).summary).toContain('\x1b[31mFAILED\x1b[0m');
    expect(run({ tty: false, color: true }).progress).toContain('\x1b[31m✗\x1b[0m');
    expect(run({ tty: true, color: false }).summary).not.toContain('\x1b[3');
  });

  it('writes the summary once, on close if the run never finished', async () => {
    const progress = new StringStream();
    const summary = new StringStream();
    const reporter = new ConsoleReporter({ progress, summary });
    for (const event of sampleRun().filter((e) => e.type !== 'run-finished')) reporter.onEvent(event);
    expect(summary.text()).toBe('');
    await reporter.close();
    await reporter.close();
    expect(summary.text().match(/Tests:/g)).toHaveLength(1);
    expect(summary.text()).toContain('Result: FAILED\n');
  });

  it('says PASSED for a clean run', async () => {
    const summary = new StringStream();
    const reporter = new ConsoleReporter({ progress: new StringStream(), summary });
    reporter.onEvent({ type: 'suite-started', suiteId: 's', suiteName: 'smoke', at: 0, boards: [] });
    reporter.onEvent({ type: 'test-finished', suiteId: 's', testName: 't', at: 10, durationMs: 10, outcome: 'passed' });
    reporter.onEvent({ type: 'run-finished', at: 20, durationMs: 20, exitCode: 0 });
    expect(summary.text()).toContain('Tests: 1 total, 1 passed, 0 failed, 0 errors, 0 skipped (1 suite) in 20 ms');
    expect(summary.text()).toContain('Result: PASSED (exit code 0)');
    expect(summary.text()).not.toContain('Failures:');
  });
});
