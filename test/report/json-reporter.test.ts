import { describe, expect, it } from 'vitest';
import { JsonReporter, type JsonRunReport } from '../../runner/report/json-reporter.ts';
import { StringStream } from '../../runner/report/text-stream.ts';
import { boardA, boardB, nastyConsole, sampleRun } from './sample-run.ts';

describe('JsonReporter', () => {
  it('writes one JSON document of the whole run on close', async () => {
    const stream = new StringStream();
    const reporter = new JsonReporter({ stream });
    for (const event of sampleRun()) reporter.onEvent(event);
    expect(stream.text()).toBe('');
    await reporter.close();
    const text = stream.text();
    expect(text.endsWith('}\n')).toBe(true);
    const report = JSON.parse(text) as JsonRunReport;
    expect(report).toMatchObject({
      version: 1,
      runId: 'run-42',
      benchName: 'virtual-lab',
      startedAt: '2026-08-19T10:00:00.000Z',
      durationMs: 12400,
      exitCode: 1,
      finished: true,
      totals: { tests: 4, passed: 1, failed: 1, errors: 1, skipped: 1 },
    });
    expect(report.suites.map((s) => [s.suiteId, s.name, s.displayName, s.durationMs, s.finished])).toEqual([
      ['smoke#1', 'smoke', 'smoke [s3-a]', 1990, true],
      ['espnow#2', 'espnow', 'espnow [s3-a, s3-b]', 10200, true],
    ]);
    const [smoke, espnow] = report.suites;
    expect(smoke?.boards).toEqual([boardA]);
    expect(espnow?.boards).toEqual([boardA, boardB]);
    // JSON.stringify escapes lone surrogates (\udXXX), so even they survive the round trip.
    expect(smoke?.console['s3-a']).toBe(nastyConsole);
    expect(smoke?.properties).toEqual({ 'flash.skipped': 'true' });
    expect(smoke?.totals).toEqual({ tests: 3, passed: 1, failed: 1, errors: 0, skipped: 1 });
    expect(smoke?.tests[0]).toEqual({
      name: 'boots to REPL',
      outcome: 'passed',
      startedAt: '2026-08-19T10:00:00.020Z',
      durationMs: 1234,
      properties: { 'boot.ms': '812' },
    });
    expect(smoke?.tests[1]).toMatchObject({ outcome: 'failed', message: 'output differs\nsecond line \x1b[31m' });
    expect(espnow?.tests[0]?.details).toContain('ETIMEDOUT');
  });

  it('reports an interrupted run: unfinished tests are errors, the run is not finished', async () => {
    const stream = new StringStream();
    const reporter = new JsonReporter({ stream, indent: 0 });
    reporter.onEvent({ type: 'run-started', runId: 'r', at: 0, suites: ['smoke'], benchName: 'b' });
    reporter.onEvent({ type: 'suite-started', suiteId: 's', suiteName: 'smoke', at: 0, boards: [] });
    reporter.onEvent({ type: 'test-started', suiteId: 's', testName: 'stuck', at: 100 });
    reporter.onEvent({ type: 'progress', message: 'still', at: 700 });
    await reporter.close();
    expect(stream.text().split('\n')).toHaveLength(2);
    const report = JSON.parse(stream.text()) as JsonRunReport;
    expect(report).toMatchObject({ finished: false, exitCode: null, durationMs: 700, totals: { tests: 1, errors: 1 } });
    expect(report.suites[0]).toMatchObject({ finished: false, durationMs: 600 });
    expect(report.suites[0]?.tests[0]).toMatchObject({ name: 'stuck', outcome: 'error', durationMs: 600 });
  });
});
