/**
 * The pieces of the multitest engine that need no board: reading the test file, the script sent to
 * each instance, control lines, the combined output and its judgement, the diff, role assignments.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isHilError } from '../../runner/errors.ts';
import { isIgnoredOutput, isRebootMarker, metricData, parseRebootRequest } from '../../runner/multitest/control-lines.ts';
import { detectHostIp } from '../../runner/multitest/host-ip.ts';
import { globalAssignment, hostIpAssignment, instanceScript, MULTITEST_HELPER } from '../../runner/multitest/instance-script.ts';
import { countInstances, loadMultitestFile, universalNewlines, type MultitestFile } from '../../runner/multitest/multitest-file.ts';
import { combinedOutput, judgeOutput, testFinishedFields, type MultitestResult } from '../../runner/multitest/multitest-result.ts';
import { roleAssignments } from '../../runner/multitest/role-assignments.ts';
import { unifiedDiff } from '../../runner/multitest/unified-diff.ts';

const fixtures = join(import.meta.dirname, 'fixtures');

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err: unknown) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('multitest file', () => {
  it('counts instances as 1 + the highest N of "def instanceN():" lines, ignoring instance0_resume', () => {
    const source = 'def instance0():\n    pass\ndef instance0_resume():\n    pass\ndef instance1():  # peer\n    pass\n  def instance5():\n';
    expect(countInstances(source, 'x.py')).toBe(2);
  });

  it('loads a file with its .exp (universal newlines) and the instance count', () => {
    const file = loadMultitestFile(join(fixtures, 'exchange.py'));
    expect(file.name).toBe('exchange.py');
    expect(file.instanceCount).toBe(2);
    expect(file.expPath).toBe(join(fixtures, 'exchange.py.exp'));
    expect(file.expected).toMatch(/^--- instance0 ---\ninstance0 ready\n/);
    expect(universalNewlines('a\r\nb\rc\n')).toBe('a\nb\nc\n');
  });

  it('loads a file without .exp with expected undefined', () => {
    expect(loadMultitestFile(join(fixtures, 'no_exp.py')).expected).toBeUndefined();
  });

  it('rejects a file without instance functions as bad input naming the file', () => {
    const err = thrown(() => loadMultitestFile(join(fixtures, 'not_a_multitest.py')));
    expect(isHilError(err, 'SUITE_INVALID') && err.kind).toBe('bad-input');
    expect((err as Error).message).toContain('not_a_multitest.py');
    expect((err as Error).message).toContain('defines no instance0()');
  });

  it('rejects a gap in the instance numbers and a missing file', () => {
    const gap = thrown(() => countInstances('def instance0():\n    pass\ndef instance2():\n    pass\n', 'gap.py'));
    expect(isHilError(gap, 'SUITE_INVALID')).toBe(true);
    expect((gap as Error).message).toBe('gap.py defines instance2() but not instance1()');
    expect(isHilError(thrown(() => loadMultitestFile(join(fixtures, 'nope.py'))), 'SUITE_NOT_FOUND')).toBe(true);
  });
});

describe('instance script', () => {
  it('is the whole file, then the helper, the injected globals and the entry-point call', () => {
    const script = instanceScript('print("top")', 'A = 1\nB = [2]\n', 'instance1');
    expect(script.startsWith('print("top")\nimport sys\n')).toBe(true);
    expect(script).toContain(MULTITEST_HELPER);
    expect(script.endsWith('\nA = 1\nB = [2]\n\ninstance1()\nmultitest.flush()\n')).toBe(true);
  });

  it('turns SET lines into assignments and injects HOST_IP only where get_network_ip is used', () => {
    expect(globalAssignment("SET PEERS = [b'\\x01']")).toBe("PEERS = [b'\\x01']\n");
    expect(hostIpAssignment('ip = multitest.get_network_ip()', '10.0.0.5')).toBe("HOST_IP = '10.0.0.5'\n");
    expect(hostIpAssignment('print(1)', '10.0.0.5')).toBe('');
  });

  it('defines every helper of the upstream protocol', () => {
    for (const name of ['flush', 'next', 'broadcast', 'wait', 'globals', 'skip', 'expect_reboot', 'output_metric', 'get_network_ip']) {
      expect(MULTITEST_HELPER).toMatch(new RegExp(`\\n    def ${name}\\(`));
    }
  });
});

describe('host IP', () => {
  it('resolves to an IPv4 address (127.0.0.1 without a route), sending nothing', async () => {
    expect(await detectHostIp()).toMatch(/^\d{1,3}(\.\d{1,3}){3}$/);
  });
});

describe('control lines', () => {
  it('parses WAIT_FOR_REBOOT and OUTPUT_METRIC', () => {
    expect(parseRebootRequest('WAIT_FOR_REBOOT instance0_resume 100')).toEqual({ resume: 'instance0_resume', delayMs: 100 });
    expect(parseRebootRequest('WAIT_FOR_REBOOT instance0_resume')).toBeUndefined();
    expect(parseRebootRequest('WAIT_FOR_REBOOT a b')).toBeUndefined();
    expect(metricData('OUTPUT_METRIC rate 5 kB/s')).toBe('rate 5 kB/s');
  });

  it('recognises reboot output and port noise', () => {
    expect(isRebootMarker('MicroPython v1.24.1 on 2024-01-01; Generic ESP32 module with ESP32')).toBe(true);
    expect(isRebootMarker('rst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)')).toBe(true);
    expect(isRebootMarker('ets Jun  8 2016 00:22:57')).toBe(true);
    expect(isRebootMarker('ESP-ROM:esp32s3-20210327')).toBe(true);
    expect(isRebootMarker('MPY: soft reboot')).toBe(true);
    expect(isRebootMarker('3.4.0; MicroPython v1.24.1 on 2024-01-01')).toBe(false);
    expect(isRebootMarker('rst is fine')).toBe(false);
    expect(isIgnoredOutput('libusb: error [op_open] failed')).toBe(true);
    expect(isIgnoredOutput('hello')).toBe(false);
  });
});

describe('combined output and judgement', () => {
  const file = (expected: string | undefined): MultitestFile => ({
    path: '/t/x.py', name: 'x.py', source: '', instanceCount: 2, expPath: '/t/x.py.exp', expected,
  });

  it('joins each instance under its header; an instance without lines leaves an empty line', () => {
    expect(combinedOutput([['a', 'b'], []])).toBe('--- instance0 ---\na\nb\n--- instance1 ---\n\n');
  });

  it('passes only on exact equality and fails with a unified diff otherwise', () => {
    const outputs = [['a', 'TIMEOUT'], ['c']];
    const output = combinedOutput(outputs);
    expect(judgeOutput(file(output), output, outputs)).toEqual({ verdict: 'pass' });
    const judged = judgeOutput(file('--- instance0 ---\na\nb\n--- instance1 ---\nc\n'), output, outputs);
    expect(judged.verdict).toBe('fail');
    expect(judged.message).toBe('output differs from x.py.exp (instance0 went silent: TIMEOUT)');
    expect(judged.diff).toBe('--- x.py.exp\n+++ x.py (this run)\n@@ -1,5 +1,5 @@\n --- instance0 ---\n a\n-b\n+TIMEOUT\n --- instance1 ---\n c\n');
  });

  it('never passes without an .exp', () => {
    const judged = judgeOutput(file(undefined), '--- instance0 ---\n\n', [[]]);
    expect(judged.verdict).toBe('fail');
    expect(judged.message).toMatch(/^no \.exp file: x\.py\.exp does not exist/);
    expect(judged.details).toContain('--- instance0 ---');
  });

  it('maps verdicts onto test-finished fields', () => {
    const result = { verdict: 'skip', message: 'instance1 printed SKIP', properties: { 'metric.1': 'x' } } as unknown as MultitestResult;
    expect(testFinishedFields(result)).toEqual({ outcome: 'skipped', message: 'instance1 printed SKIP', properties: { 'metric.1': 'x' } });
    expect(testFinishedFields({ ...result, verdict: 'error' }).outcome).toBe('error');
    expect(testFinishedFields({ ...result, verdict: 'pass' }).outcome).toBe('passed');
  });
});

describe('unified diff', () => {
  it('is empty for equal texts and shows separate hunks for distant changes', () => {
    expect(unifiedDiff('a\n', 'a\n', { from: 'x', to: 'y' })).toBe('');
    const from = Array.from({ length: 20 }, (_, i) => `l${i}`).join('\n') + '\n';
    const to = from.replace('l1\n', 'L1\n').replace('l18\n', '');
    expect(unifiedDiff(from, to, { from: 'x', to: 'y' })).toBe(
      '--- x\n+++ y\n@@ -1,5 +1,5 @@\n l0\n-l1\n+L1\n l2\n l3\n l4\n@@ -16,5 +16,4 @@\n l15\n l16\n l17\n-l18\n l19\n');
  });

  it('handles insertion into an empty text and a missing final newline', () => {
    expect(unifiedDiff('', 'a\n', { from: 'x', to: 'y' })).toBe('--- x\n+++ y\n@@ -0,0 +1 @@\n+a\n');
    expect(unifiedDiff('a\n', 'a', { from: 'x', to: 'y' })).toBe('--- x\n+++ y\n@@ -1 +1 @@\n-a\n+a\n\\ No newline at end of file\n');
  });
});

describe('role assignments', () => {
  it('starts with the identity and lists every assignment of distinct boards', () => {
    expect(roleAssignments(2, 2)).toEqual([[0, 1], [1, 0]]);
    expect(roleAssignments(2, 3)).toEqual([[0, 1], [0, 2], [1, 0], [1, 2], [2, 0], [2, 1]]);
    expect(roleAssignments(3, 3, 1)).toEqual([[0, 1, 2]]);
  });

  it('needs at least as many boards as instances', () => {
    expect(isHilError(thrown(() => roleAssignments(3, 2)), 'NOT_ENOUGH_BOARDS')).toBe(true);
  });
});
