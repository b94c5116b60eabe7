import type { BoardFacts, RunEvent } from '../../runner/suite/run-events.ts';

const T0 = Date.UTC(2026, 7, 19, 10, 0, 0);

export const boardA: BoardFacts = {
  boardId: 's3-a',
  portPath: '1-1.3',
  linkUrl: 'rfc2217://127.0.0.1:40001',
  chip: 'esp32s3',
  mac: 'aa:bb:cc:00:00:01',
  firmwareVersion: 'v1.24.1',
  machine: 'Generic ESP32S3 module with ESP32S3',
};

export const boardB: BoardFacts = {
  boardId: 's3-b',
  portPath: '1-1.4',
  linkUrl: 'rfc2217://127.0.0.1:40002',
  chip: 'esp32s3',
  mac: '',
  firmwareVersion: 'v1.24.1',
};

/** Serial output with everything XML 1.0 cannot carry, and everything that needs escaping. */
export const nastyConsole =
  'MPY: soft reboot\r\n\x00\x04raw REPL; CTRL-B to exit\r\n>\x1b[32mOK\x1b[0m <tag> & "quotes" ]]> done\r\n' +
  'lone \uD800 surrogate, \uFFFE and \uFFFF nonchars, emoji 😀 kept\r\n' +
  'entity-like text stays literal: &nbsp; &#0; &amp; &#x41; AT&T\r\n';

/** A run with two suites: every outcome, test properties, nasty console text. */
export function sampleRun(): RunEvent[] {
  return [
    { type: 'run-started', runId: 'run-42', at: T0, suites: ['smoke', 'espnow'], benchName: 'virtual-lab' },
    { type: 'suite-started', suiteId: 'smoke#1', suiteName: 'smoke', at: T0 + 10, boards: [boardA] },
    { type: 'test-started', suiteId: 'smoke#1', testName: 'boots to REPL', at: T0 + 20 },
    {
      type: 'test-finished', suiteId: 'smoke#1', testName: 'boots to REPL', at: T0 + 1254, durationMs: 1234, outcome: 'passed',
      properties: { 'boot.ms': '812' },
    },
    { type: 'progress', suiteId: 'smoke#1', message: 'uploading test files', at: T0 + 1300 },
    { type: 'test-started', suiteId: 'smoke#1', testName: 'prints <hello> & bye', at: T0 + 1300 },
    {
      type: 'test-finished', suiteId: 'smoke#1', testName: 'prints <hello> & bye', at: T0 + 1800, durationMs: 500, outcome: 'failed',
      message: 'output differs\nsecond line \x1b[31m',
      details: 'expected: hello\r\n     got: he\x00llo ]]> <b>&amp;\r\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\nline 9\nline 10\n',
    },
    {
      type: 'test-finished', suiteId: 'smoke#1', testName: 'usb device', at: T0 + 1801, durationMs: 1, outcome: 'skipped',
      message: 'needs machine.USBDevice (v1.23+)',
    },
    {
      type: 'suite-finished', suiteId: 'smoke#1', at: T0 + 2000, durationMs: 1990,
      console: { 's3-a': nastyConsole }, properties: { 'flash.skipped': 'true' },
    },
    { type: 'suite-started', suiteId: 'espnow#2', suiteName: 'espnow', at: T0 + 2100, boards: [boardA, boardB] },
    { type: 'test-started', suiteId: 'espnow#2', testName: 'ping pong', at: T0 + 2200 },
    {
      type: 'test-finished', suiteId: 'espnow#2', testName: 'ping pong', at: T0 + 12200, durationMs: 10000, outcome: 'error',
      message: 'TIMEOUT: no reply from s3-b within 10000 ms',
      details: 'Traceback (most recent call last):\n  File "<stdin>", line 3\nOSError: [Errno 116] ETIMEDOUT',
    },
    {
      type: 'suite-finished', suiteId: 'espnow#2', at: T0 + 12300, durationMs: 10200,
      console: { 's3-a': 'sent ping\r\n', 's3-b': 'waiting\r\n\r\n' },
    },
    { type: 'run-finished', at: T0 + 12400, durationMs: 12400, exitCode: 1 },
  ];
}
