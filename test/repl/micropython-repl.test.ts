import { describe, expect, it } from 'vitest';
import { isHilError, type HilError } from '../../runner/errors.ts';
import { BoardExceptionError } from '../../runner/repl/board-exception-error.ts';
import { MicroPythonRepl } from '../../runner/repl/micropython-repl.ts';
import { FakeBoardLink, type FakeBoardOptions } from './fake-board-link.ts';
import { flushTasks, ManualClock } from './manual-clock.ts';

const enc = new TextEncoder();
const bytes = (s: string): number[] => [...enc.encode(s)];
const writesOf = (board: FakeBoardLink): number[][] => board.writes.map((w) => [...w]);

async function rejection(promise: Promise<unknown>): Promise<HilError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isHilError(err)) throw new Error(`expected a HilError, got ${String(err)}`);
  return err;
}

function setup(options: FakeBoardOptions = {}): { board: FakeBoardLink; repl: MicroPythonRepl } {
  const board = new FakeBoardLink(options);
  const repl = new MicroPythonRepl(board, { boardId: 's3-a', portPath: '1-1.3' });
  return { board, repl };
}

/** Source long enough to need several raw-paste windows. */
const longSource = Array.from({ length: 40 }, (_, i) => `x${i} = ${i} * 12345  # filler line ${i}`).join('\n');

describe('MicroPythonRepl: entering and leaving the raw REPL', () => {
  it('enters from the friendly REPL with \\r\\x03, then \\r\\x01, and consumes the banner and prompt', async () => {
    const { board, repl } = setup();
    await repl.enterRawRepl();
    expect(writesOf(board)).toEqual([[0x0d, 0x03], [0x0d, 0x01]]);
    expect(board.mode).toBe('raw');
    expect(repl.state).toBe('raw');
    expect(repl.reader.available).toBe(0);
  });

  it('soft-resets on request (\\x04) and returns the boot output', async () => {
    const { board, repl } = setup({ bootOutput: 'boot.py says hi\r\n' });
    const { bootOutput } = await repl.enterRawRepl({ softReset: true });
    expect(writesOf(board)).toEqual([[0x0d, 0x03], [0x0d, 0x01], [0x04]]);
    expect(bootOutput).toBe('boot.py says hi\r\n');
    expect(board.softResets).toBe(1);
    expect(repl.state).toBe('raw');
  });

  it('skips garbage (including > and a partial banner) before the banner, even byte by byte', async () => {
    const { board, repl } = setup({ outputChunkBytes: 1, run: () => ({ stdout: 'ok\r\n' }) });
    board.emitRaw(Uint8Array.of(0x00, 0xff, 0xfe));
    board.emitRaw('ets Jun  8 2016 00:22:57\r\nrst:0x1 (POWERON_RESET)\r\n>>> raw REPL; CTRL-\r\n> ');
    await repl.enterRawRepl();
    expect(repl.state).toBe('raw');
    expect((await repl.exec('print("ok")')).stdout).toBe('ok\r\n');
    expect(repl.consoleText()).toContain('POWERON_RESET');
  });

  it('soft-resets from the raw REPL: OK, soft reboot, boot output, banner', async () => {
    const { board, repl } = setup({ initialMode: 'raw', bootOutput: 'mounted /flash\r\n' });
    await repl.enterRawRepl();
    board.writes.length = 0;
    expect(await repl.softReset()).toBe('mounted /flash\r\n');
    expect(writesOf(board)).toEqual([[0x04]]);
    expect(repl.state).toBe('raw');
  });

  it('leaves the raw REPL with \\r\\x02 and waits for >>>', async () => {
    const { board, repl } = setup();
    await repl.enterRawRepl();
    board.writes.length = 0;
    await repl.exitRawRepl();
    expect(writesOf(board)).toEqual([[0x0d, 0x02]]);
    expect(board.mode).toBe('friendly');
    expect(repl.state).toBe('friendly');
  });
});

describe('MicroPythonRepl: exec over raw-paste', () => {
  it('sends \\x05A\\x01, the source and \\x04, reads the \\x04 ack and parses the framing (no OK)', async () => {
    const { board, repl } = setup({ run: (code) => ({ stdout: `ran ${code.length} bytes\r\n` }) });
    await repl.enterRawRepl();
    board.writes.length = 0;
    const result = await repl.exec('print(1+1)');
    expect(writesOf(board)).toEqual([[0x05, 0x41, 0x01], bytes('print(1+1)'), [0x04]]);
    expect(result).toMatchObject({ stdout: 'ran 10 bytes\r\n', stderr: '', softRebooted: false, transfer: 'raw-paste' });
    expect(board.executed).toEqual([{ code: 'print(1+1)', via: 'raw-paste' }]);
    expect(repl.rawPasteSupported).toBe(true);
    expect(repl.state).toBe('raw');
  });

  it('enters the raw REPL by itself when needed', async () => {
    const { board, repl } = setup({ run: () => ({ stdout: 'x' }) });
    expect((await repl.exec('pass')).stdout).toBe('x');
    expect(writesOf(board).slice(0, 3)).toEqual([[0x0d, 0x03], [0x0d, 0x01], [0x05, 0x41, 0x01]]);
  });

  it('never exceeds the credit: two windows at first, one more per \\x01', async () => {
    const { board, repl } = setup({ windowBytes: 128, consumeBytesPerTick: 16 });
    await repl.enterRawRepl();
    board.writes.length = 0;
    await repl.exec(longSource);
    const dataWrites = board.writes.slice(1, -1);
    expect(board.hostBytes().subarray(3, -1)).toEqual(enc.encode(longSource));
    expect(dataWrites.length).toBeGreaterThan(4);
    for (const write of dataWrites) expect(write.length).toBeLessThanOrEqual(256);
    expect(board.maxUnconsumedBytes).toBeLessThanOrEqual(256);
    expect(board.executed[0]?.code).toBe(longSource);
    expect(longSource.length).toBeGreaterThan(1000);
  });

  it('honours a small window (nrf-like: 32 bytes)', async () => {
    const { board, repl } = setup({ windowBytes: 32, consumeBytesPerTick: 5 });
    await repl.enterRawRepl();
    await repl.exec(longSource);
    expect(board.maxUnconsumedBytes).toBeLessThanOrEqual(64);
    expect(board.executed[0]?.code).toBe(longSource);
  });

  it('returns a traceback in stderr; execOrThrow and eval throw BoardExceptionError', async () => {
    const traceback = 'Traceback (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\nValueError: bad value\r\n';
    const { repl } = setup({ run: () => ({ stdout: 'before\r\n', stderr: traceback }) });
    const result = await repl.exec('raise ValueError("bad value")');
    expect(result.stdout).toBe('before\r\n');
    expect(result.stderr).toBe(traceback);
    const err = await repl.execOrThrow('raise ValueError').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BoardExceptionError);
    expect(err).toMatchObject({ code: 'BOARD_EXCEPTION', exceptionType: 'ValueError', exceptionMessage: 'bad value', stdout: 'before\r\n' });
    await expect(repl.eval('1/0')).rejects.toBeInstanceOf(BoardExceptionError);
    expect(repl.state).toBe('raw');
  });

  it('eval prints the expression; evalLiteral parses its repr', async () => {
    const { board, repl } = setup({
      run: (code) => {
        if (code === 'print(2+3)') return { stdout: '5\r\n' };
        if (code === 'print(repr(os.uname()))') return { stdout: "('esp32', 'esp32', '1.24.1', b'\\x00\\xff', None, -3, [True])\r\n" };
        return { stderr: 'NameError\r\n' };
      },
    });
    expect(await repl.eval('2+3')).toBe('5');
    expect(await repl.evalLiteral('os.uname()')).toEqual(['esp32', 'esp32', '1.24.1', Uint8Array.of(0, 255), null, -3, [true]]);
    expect(board.executed.map((e) => e.code)).toEqual(['print(2+3)', 'print(repr(os.uname()))']);
  });

  it('handles an early \\x04 (compile error mid-stream): acknowledges with \\x04 and stops sending', async () => {
    const { board, repl } = setup({ earlyAbortAfterBytes: 50, consumeBytesPerTick: 10, run: () => ({ stdout: 'fine' }) });
    await repl.enterRawRepl();
    board.writes.length = 0;
    const result = await repl.exec(longSource);
    expect(result.stderr).toContain('SyntaxError');
    expect(board.writes.at(-1)).toEqual(Uint8Array.of(0x04));
    const sent = board.hostBytes().length - 3 - 1;
    expect(sent).toBeLessThan(longSource.length);
    expect(repl.state).toBe('raw');
    expect(board.mode).toBe('raw');
  });

  it('recognises a soft reboot after SystemExit and resyncs to the raw prompt', async () => {
    let calls = 0;
    const { repl } = setup({
      bootOutput: 'boot!\r\n',
      run: () => (calls++ === 0 ? { stdout: 'SKIP\r\n', systemExit: true } : { stdout: 'next\r\n' }),
    });
    const first = await repl.exec('print("SKIP"); raise SystemExit');
    expect(first).toMatchObject({ stdout: 'SKIP\r\n', stderr: '', softRebooted: true, bootOutput: 'boot!\r\n' });
    expect(repl.state).toBe('raw');
    expect(await repl.exec('print("next")')).toMatchObject({ stdout: 'next\r\n', softRebooted: false });
  });

  it('serialises concurrent operations', async () => {
    const { repl } = setup({ run: (code) => ({ stdout: code.toUpperCase() }) });
    const results = await Promise.all(['a', 'b', 'c'].map((code) => repl.exec(code)));
    expect(results.map((r) => r.stdout)).toEqual(['A', 'B', 'C']);
  });
});

describe('MicroPythonRepl: classic raw mode fallback', () => {
  it('falls back when the board answers R\\x00, and stays classic for the connection', async () => {
    const { board, repl } = setup({ rawPaste: 'refuse', run: (code) => ({ stdout: `<${code.length}>` }) });
    await repl.enterRawRepl();
    board.writes.length = 0;
    const source = 'a' .repeat(600);
    const result = await repl.exec(source);
    expect(result).toMatchObject({ stdout: '<600>', transfer: 'classic' });
    expect(writesOf(board).map((w) => w.length)).toEqual([3, 256, 256, 88, 1]);
    expect(board.writes.at(-1)).toEqual(Uint8Array.of(0x04));
    expect(repl.rawPasteSupported).toBe(false);

    board.writes.length = 0;
    expect((await repl.exec('print(1)')).stdout).toBe('<8>');
    expect(writesOf(board)).toEqual([bytes('print(1)'), [0x04]]);
    expect(board.executed.map((e) => e.via)).toEqual(['classic', 'classic']);
  });

  it('falls back when old firmware re-prints the banner instead of answering', async () => {
    const { board, repl } = setup({ rawPaste: 'unsupported', run: () => ({ stdout: 'old' }) });
    expect((await repl.exec('pass')).stdout).toBe('old');
    expect((await repl.exec('pass')).stdout).toBe('old');
    expect(repl.rawPasteSupported).toBe(false);
    expect(board.executed.map((e) => e.via)).toEqual(['classic', 'classic']);
    const requests = writesOf(board).filter((w) => w.length === 3 && w[0] === 0x05);
    expect(requests).toHaveLength(1);
  });

  it('never tries raw-paste when told not to', async () => {
    const board = new FakeBoardLink({ run: () => ({ stdout: 'c' }) });
    const repl = new MicroPythonRepl(board, { rawPaste: false });
    expect((await repl.exec('pass')).transfer).toBe('classic');
    expect(writesOf(board).some((w) => w[0] === 0x05)).toBe(false);
  });
});

describe('MicroPythonRepl: failures', () => {
  it('a disconnect mid-exec is LINK_GONE, never a hang', async () => {
    const { repl } = setup({ run: () => ({ disconnect: true, stdout: 'partial' }) });
    const err = await rejection(repl.exec('import machine; machine.reset()', { timeoutMs: 60_000 }));
    expect(err.code).toBe('LINK_GONE');
    expect(err.evidence).toMatchObject({ boardId: 's3-a', portPath: '1-1.3', phase: 'exec: stdout' });
    expect(repl.state).toBe('gone');
    expect((await rejection(repl.exec('pass'))).code).toBe('LINK_GONE');
  });

  it('a board that never answers is TIMEOUT with evidence, and the next exec resyncs', async () => {
    const clock = new ManualClock();
    let hang = true;
    const board = new FakeBoardLink({ run: () => (hang ? { hang: true, stdout: 'working...' } : { stdout: 'ok' }) });
    const repl = new MicroPythonRepl(board, { boardId: 's3-a', clock });
    const pending = rejection(repl.exec('while True: pass', { timeoutMs: 10_000 }));
    while (board.mode !== 'running') await flushTasks(1);
    await flushTasks(10);
    clock.advance(10_000);
    const err = await pending;
    expect(err.code).toBe('TIMEOUT');
    expect(err.evidence).toMatchObject({ boardId: 's3-a', phase: 'exec: stdout' });
    expect(err.evidence.lastBytes).toContain('working...');
    expect(repl.state).toBe('unknown');

    hang = false;
    board.writes.length = 0;
    expect((await repl.exec('pass')).stdout).toBe('ok');
    expect(writesOf(board).slice(0, 2)).toEqual([[0x0d, 0x03], [0x0d, 0x01]]);
  });

  it('an aborted exec is ABORTED; interrupt() stops the program and resyncs', async () => {
    let hang = true;
    const { board, repl } = setup({ run: () => (hang ? { hang: true } : { stdout: 'after' }) });
    const controller = new AbortController();
    const pending = rejection(repl.exec('while True: pass', { signal: controller.signal }));
    while (board.mode !== 'running') await flushTasks(1);
    controller.abort();
    expect((await pending).code).toBe('ABORTED');
    hang = false;
    await repl.interrupt();
    expect(board.mode).toBe('raw');
    expect(repl.state).toBe('raw');
    expect((await repl.exec('pass')).stdout).toBe('after');
  });

  it('a board that answers the classic exec without OK is REPL_PROTOCOL', async () => {
    const { board, repl } = setup({ rawPaste: 'refuse' });
    await repl.enterRawRepl();
    // Make the board swallow the command: pretend it printed something else instead of OK.
    const write = board.write.bind(board);
    board.write = async (data: Uint8Array): Promise<void> => {
      if (data.length === 1 && data[0] === 0x04) {
        board.writes.push(data);
        board.emitRaw('NO');
        return;
      }
      return write(data);
    };
    const err = await rejection(repl.exec('pass'));
    expect(err.code).toBe('REPL_PROTOCOL');
    expect(err.evidence.got).toBe('NO');
  });
});
