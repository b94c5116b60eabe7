/**
 * The multitest engine against the virtual lab: two simulated boards (an ESP32 on a USB-UART bridge and
 * a native-USB ESP32-S3) running the real MicroPython interpreter, reached over RFC 2217 on loopback,
 * running multitest files in MicroPython's `tests/multi_*` format from ./fixtures.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BoardEndpoint } from '../../runner/bench/board-endpoint.ts';
import { isHilError } from '../../runner/errors.ts';
import { openLink } from '../../runner/link/open-link.ts';
import { openRfc2217Link } from '../../runner/link/rfc2217-link.ts';
import type { SerialLink } from '../../runner/link/serial-link.ts';
import { silentLogger } from '../../runner/logger.ts';
import type { MultitestBoard } from '../../runner/multitest/board-instance.ts';
import { runMultitest, type RunMultitestOptions } from '../../runner/multitest/multitest-engine.ts';
import { loadMultitestFile } from '../../runner/multitest/multitest-file.ts';
import { runMultitestRoles } from '../../runner/multitest/role-assignments.ts';
import { MicroPythonRepl } from '../../runner/repl/micropython-repl.ts';
import { createBoardLinkReopener } from '../../runner/bench/board-link-reopener.ts';
import { DiscoveryBenchUsb } from '../../runner/bench/discovery-bench-usb.ts';
import { systemClock } from '../../runner/repl/clock.ts';
import { BoardConnection } from '../../runner/suite/board-connection.ts';
import { SimLab, type SimLabBoardSpec } from '../../sim/sim-lab.ts';

const fixture = (name: string) => loadMultitestFile(join(import.meta.dirname, 'fixtures', name));

const specs: SimLabBoardSpec[] = [
  { id: 'e1', chip: 'esp32', portPath: '1-1.1', flashSizeBytes: 4 * 2 ** 20, psramBytes: 0, usb: 'uart-bridge', mac: '24:0a:c4:00:00:51' },
  { id: 's1', chip: 'esp32s3', portPath: '1-1.2', flashSizeBytes: 8 * 2 ** 20, psramBytes: 0, usb: 'native', mac: '7c:df:a1:00:00:52' },
];

let lab: SimLab;
let boards: MultitestBoard[] = [];
const extraLinks: SerialLink[] = [];

beforeAll(async () => {
  lab = await SimLab.start({ boards: specs, stateDir: undefined, stockFirmwareVersion: 'v1.24.1', speedFactor: 0 });
  boards = await Promise.all(lab.boards.map((simBoard) => {
    const { spec } = simBoard;
    const endpoint: BoardEndpoint = { boardId: spec.id, portPath: spec.portPath, chip: spec.chip, usb: spec.usb, linkUrl: simBoard.url, expectedMac: spec.mac,
      ...(spec.usb === 'native' ? { runtimeUsbId: '303a:4001' } : {}) };
    const reopen = createBoardLinkReopener({ usb: new DiscoveryBenchUsb(lab.discovery), openLink, clock: systemClock, logger: silentLogger() });
    return BoardConnection.connect(endpoint, openLink, silentLogger(), { reopen });
  }));
}, 60_000);

afterAll(async () => {
  await Promise.all([...boards.map((board) => board.link), ...extraLinks].map((link) => link.close()));
  await lab?.close();
});

/** Every board is back at an idle raw prompt and runs code. */
async function expectBoardsReady(): Promise<void> {
  for (const board of boards) {
    expect(board.repl.state).toBe('raw');
    expect((await board.repl.exec('print(6 * 7)', { timeoutMs: 5000 })).stdout).toBe('42\r\n');
  }
}

describe('multitest engine on the virtual lab', () => {
  it('runs a globals + broadcast/wait exchange and passes against its .exp', async () => {
    const traced: string[] = [];
    const result = await runMultitest(fixture('exchange.py'), boards, { onLine: (line) => traced.push(`i${line.instance}: ${line.text}`) });
    expect(result.message).toBeUndefined();
    expect(result.verdict).toBe('pass');
    expect(result.testName).toBe('exchange.py on e1|s1');
    expect(result.instances.map((instance) => instance.lines)).toEqual([
      ['instance0 ready', 'instance0 got ping', 'instance0 done'],
      ["instance1 sees [42, b'\\x01\\xff', 'hi'] zero", 'instance1 got pong'],
    ]);
    expect(traced).toContain("i0: SET SECRET = [42, b'\\x01\\xff', 'hi']");
    expect(traced).toContain('i1: BROADCAST ping');
    expect(traced).toContain('i0: BROADCAST pong');
    expect(result.properties).toEqual({ 'multitest.instances': '2', 'instance0.board': 'e1', 'instance1.board': 's1' });
    await expectBoardsReady();
  });

  it('injects the host IP into files that use get_network_ip, and runs a 1-instance file on the first board', async () => {
    const result = await runMultitest(fixture('host_ip.py'), boards, { hostIp: async () => '10.1.2.3' });
    expect(result.output).toBe('--- instance0 ---\nhost 10.1.2.3\nown ip is a str\n');
    expect(result.verdict).toBe('pass');
    expect(result.testName).toBe('host_ip.py on e1');
  });

  it('runs every assignment of boards to instances when asked', async () => {
    const results = await runMultitestRoles(fixture('exchange.py'), boards, { assignments: 'all' });
    expect(results.map((result) => [result.testName, result.verdict])).toEqual([['exchange.py on e1|s1', 'pass'], ['exchange.py on s1|e1', 'pass']]);
  });

  it('skips when an instance calls multitest.skip() while starting, and stops the waiting one', async () => {
    const result = await runMultitest(fixture('skip.py'), boards);
    expect(result.verdict).toBe('skip');
    expect(result.message).toBe('instance1 printed SKIP');
    expect(result.instances[0]!.lines).toEqual(['instance0 started']);
    await expectBoardsReady();
  });

  it('skips on the upstream idiom: print("SKIP") and SystemExit at import time', async () => {
    const result = await runMultitest(fixture('skip_at_import.py'), boards);
    expect([result.verdict, result.message]).toEqual(['skip', 'instance0 printed SKIP']);
    await expectBoardsReady();
  });

  it('collects output_metric data as properties, outside the compared output', async () => {
    const result = await runMultitest(fixture('metrics.py'), boards);
    expect(result.verdict).toBe('pass');
    expect(result.metrics).toEqual(['throughput 123 kB/s', 'latency_ms=7']);
    expect(result.properties['metric.1']).toBe('throughput 123 kB/s');
    expect(result.properties['metric.2']).toBe('latency_ms=7');
  });

  it('fails with a unified diff when the output differs from the .exp', async () => {
    const result = await runMultitest(fixture('mismatch.py'), boards);
    expect(result.verdict).toBe('fail');
    expect(result.message).toBe('output differs from mismatch.py.exp');
    expect(result.diff).toBe('--- mismatch.py.exp\n+++ mismatch.py (this run)\n@@ -1,6 +1,6 @@\n --- instance0 ---\n one\n-2\n+two\n three\n --- instance1 ---\n same\n');
    expect(result.details).toContain('### TRUTH ###');
  });

  it('records a traceback in the output of the instance that raised', async () => {
    const result = await runMultitest(fixture('raises.py'), boards);
    expect(result.verdict).toBe('fail');
    expect(result.message).toBe('output differs from raises.py.exp (instance1 raised an exception)');
    // As run-multitests.py records it: the (empty) text before the end-of-output marker, then the traceback.
    const [line, empty, traceback] = result.instances[1]!.lines;
    expect([line, empty]).toEqual(['about to fail', '']);
    expect(traceback).toMatch(/^Traceback \(most recent call last\):\r\n.*ValueError: board-side bug\r\n$/s);
    await expectBoardsReady();
  });

  it('fails a test without .exp file ("no .exp file"), with the output to write one from', async () => {
    const result = await runMultitest(fixture('no_exp.py'), boards);
    expect(result.verdict).toBe('fail');
    expect(result.message).toMatch(/^no \.exp file: no_exp\.py\.exp/);
    expect(result.output).toBe('--- instance0 ---\nzero\n--- instance1 ---\none\n');
    expect(result.details).toContain(result.output);
  });

  it('rejects more instances than boards as bad input before touching a board', async () => {
    const before = boards.map((board) => board.repl.consoleText().length);
    const err = await runMultitest(fixture('three_instances.py'), boards).catch((e: unknown) => e);
    expect(isHilError(err, 'NOT_ENOUGH_BOARDS') && err.kind).toBe('bad-input');
    expect(boards.map((board) => board.repl.consoleText().length)).toEqual(before);
  });

  it('appends TIMEOUT to an instance that goes silent while running, then stops it', async () => {
    const result = await runMultitest(fixture('silent.py'), boards, { instanceTimeoutMs: 1500 });
    expect(result.verdict).toBe('fail');
    expect(result.instances.map((instance) => instance.lines)).toEqual([['instance0 waiting', 'TIMEOUT'], ['instance1 done']]);
    expect(result.diff).toContain('-instance0 done\n+TIMEOUT\n');
    expect(result.message).toBe('output differs from silent.py.exp (instance0 went silent: TIMEOUT)');
    await expectBoardsReady();
  });

  it('gives TIMEOUT to every instance that went silent (a deadlock)', async () => {
    const result = await runMultitest(fixture('deadlock.py'), boards, { instanceTimeoutMs: 1000 });
    expect(result.instances.map((instance) => instance.lines)).toEqual([['TIMEOUT'], ['TIMEOUT']]);
    expect(result.verdict).toBe('fail');
    await expectBoardsReady();
  });

  it('ends with an ABORTED error verdict when the signal fires, and still stops the boards', async () => {
    const abort = new AbortController();
    const running = runMultitest(fixture('silent.py'), boards, { signal: abort.signal });
    setTimeout(() => abort.abort(new Error('run cancelled')), 300);
    const result = await running;
    expect([result.verdict, result.error?.code]).toEqual(['error', 'ABORTED']);
    expect(result.instances[0]!.lines).toEqual(['instance0 waiting']);
    await expectBoardsReady();
  });

  it('appends TIMEOUT to an instance that never reaches multitest.next()', async () => {
    const result = await runMultitest(fixture('silent_start.py'), boards, { instanceTimeoutMs: 1500 });
    expect(result.verdict).toBe('fail');
    expect(result.instances.map((instance) => instance.lines)).toEqual([['instance0 up'], ['TIMEOUT']]);
    await expectBoardsReady();
  });

  it('follows an announced hard reset (machine.reset()) and resumes with the globals collected so far', async () => {
    const result = await runMultitest(fixture('reboot_hard.py'), boards);
    expect(result.details ?? '').toContain('instance0 rebooted (hard) and resumed with instance0_resume()');
    expect(result.verdict).toBe('pass');
    expect(lab.boards[0]!.board.state).toBe('app-running');
    await expectBoardsReady();
  });

  it('follows an announced soft reset (machine.soft_reset()) and resumes', async () => {
    const result = await runMultitest(fixture('reboot_soft.py'), [boards[1]!, boards[0]!]);
    expect(result.details ?? '').toContain('instance0 rebooted (soft)');
    expect(result.verdict).toBe('pass');
    await expectBoardsReady();
  });

  it('records TIMEOUT when an announced reboot does not happen, and says why', async () => {
    const result = await runMultitest(fixture('reboot_missing.py'), boards, { rebootInitialTimeoutMs: 300 });
    expect(result.verdict).toBe('fail');
    expect(result.instances[1]!.lines).toEqual(['WAIT_FOR_REBOOT instance1_resume 0', 'TIMEOUT']);
    expect(result.details).toContain('instance1 announced a reboot that did not happen: no output within 300 ms');
    await expectBoardsReady();
  });

  it('rejects a resume function of another instance as bad input (error verdict)', async () => {
    const result = await runMultitest(fixture('bad_resume.py'), boards);
    expect(result.verdict).toBe('error');
    expect(result.error?.code).toBe('SUITE_INVALID');
    expect(result.error?.kind).toBe('bad-input');
    expect(result.message).toContain('needs the name of a function that starts with "instance1"');
    await expectBoardsReady();
  });

  it('reports an unannounced reboot as an infrastructure error with the boot log as evidence', async () => {
    // Instance 1 on the bridge ESP32: its tty stays through the reset, so the boot log is the evidence.
    const result = await runMultitest(fixture('unexpected_reboot.py'), [boards[1]!, boards[0]!]);
    expect(result.verdict).toBe('error');
    expect(result.error?.code).toBe('BOARD_REBOOTED');
    expect(result.error?.kind).toBe('infrastructure');
    expect(result.message).toMatch(/^board e1 \(instance1\) rebooted unexpectedly during unexpected_reboot\.py: "/);
    expect(result.error?.evidence.boardId).toBe('e1');
    expect(String(result.error?.evidence.consoleTail)).toMatch(/about to reset\n(.*\n)*rst:0x[0-9a-f]+ /);
    expect(result.details).toContain('I (27) boot: ESP-IDF');
    expect(result.instances[1]!.lines).toEqual(['about to reset']);
    await expectBoardsReady();
  });

  it('reports an unannounced reboot of a native-USB board as its link vanishing; it is found again by port path', async () => {
    // The S3 leaves the bus when it resets: its tty goes, as on hardware, so there is no boot log to read.
    const result = await runMultitest(fixture('unexpected_reboot.py'), boards);
    expect(result.verdict).toBe('error');
    expect(result.error?.code).toBe('LINK_GONE');
    expect(result.error?.kind).toBe('infrastructure');
    expect(result.instances[1]!.lines).toEqual(['about to reset']);
    const reconnection = await (boards[1] as BoardConnection).reconnect({ deadlineMs: 15_000 });
    expect(reconnection.attempts).toBe(1);
    await expectBoardsReady();
  });

  it('reconnects a board whose link vanishes during an announced reboot (native USB leaving the bus)', async () => {
    const original = boards[0]!;
    await original.link.close();
    const detaching = new DetachAfterLine(await openRfc2217Link(lab.boards[0]!.url), 'WAIT_FOR_REBOOT instance0_resume 0\r\n');
    const first: MultitestBoard = { endpoint: original.endpoint, link: detaching, repl: new MicroPythonRepl(detaching, { boardId: 'e1' }) };
    const reconnects: string[] = [];
    const reconnect: RunMultitestOptions['reconnect'] = async (board) => {
      reconnects.push(board.endpoint.boardId);
      await detaching.closed;
      const link = await openRfc2217Link(lab.boards[0]!.url);
      extraLinks.push(link);
      return { endpoint: board.endpoint, link, repl: new MicroPythonRepl(link, { boardId: board.endpoint.boardId }) };
    };
    const result = await runMultitest(fixture('reboot_hard.py'), [first, boards[1]!], { reconnect });
    expect(reconnects).toEqual(['e1']);
    expect(result.details ?? '').toContain('instance0 rebooted (reconnected)');
    expect(result.verdict).toBe('pass');
    const replacement = result.instances[0]!.board;
    expect(replacement).not.toBe(first);
    boards[0] = replacement;
    await expectBoardsReady();
  });
});

/**
 * A link that goes away like a native-USB board on a hard reset: it delivers the stream up to and
 * including `marker`, and vanishes as soon as anything follows it.
 */
class DetachAfterLine implements SerialLink {
  closed: Promise<void> = Promise.resolve();
  private delivered = '';
  private detached = false;
  private readonly dataListeners = new Set<(chunk: Uint8Array) => void>();
  private readonly goneListeners = new Set<(err: Error) => void>();

  constructor(private readonly inner: SerialLink, private readonly marker: string) {
    inner.onData((chunk) => this.onInner(chunk));
  }

  get url(): string { return this.inner.url; }
  get baudRate(): number { return this.inner.baudRate; }
  get isOpen(): boolean { return !this.detached && this.inner.isOpen; }
  get signals(): { dtr: boolean; rts: boolean } { return this.inner.signals; }
  write(data: Uint8Array): Promise<void> { return this.inner.write(data); }
  onData(listener: (chunk: Uint8Array) => void): () => void {
    this.dataListeners.add(listener);
    return () => this.dataListeners.delete(listener);
  }
  onGone(listener: (err: Error) => void): () => void {
    this.goneListeners.add(listener);
    return () => this.goneListeners.delete(listener);
  }
  setSignals(signals: { dtr?: boolean; rts?: boolean }): Promise<void> { return this.inner.setSignals(signals); }
  setBaudRate(baudRate: number): Promise<void> { return this.inner.setBaudRate(baudRate); }
  purgeInput(): Promise<void> { return this.inner.purgeInput(); }
  close(): Promise<void> { return this.inner.close(); }

  private onInner(chunk: Uint8Array): void {
    if (this.detached) return;
    const text = Buffer.from(chunk).toString('latin1');
    const at = (this.delivered + text).indexOf(this.marker);
    const keep = at < 0 ? chunk.length : Math.max(0, at + this.marker.length - this.delivered.length);
    if (keep > 0) {
      this.delivered += text.slice(0, keep);
      for (const listener of this.dataListeners) listener(chunk.subarray(0, keep));
    }
    if (at >= 0 && keep < chunk.length) {
      this.detached = true;
      this.closed = this.inner.close();
      for (const listener of this.goneListeners) listener(new Error('USB device detached'));
    }
  }
}
