/**
 * Raw REPL and raw-paste on the real interpreter, byte for byte (micropython-host-protocols.md
 * §1.1–§1.6, §11.2–§11.3).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostHarness } from './host-harness.ts';

let board: HostHarness;

beforeAll(async () => {
  ({ harness: board } = await HostHarness.boot());
});
afterAll(async () => {
  await board.stop();
});

/** Host side of a raw-paste transfer that never exceeds its credit, as mpremote's raw_paste_write(). */
async function rawPaste(source: string): Promise<{ credits: number; result: string }> {
  board.send('\x05A\x01');
  const header = await board.readUntil(/R[\x00\x01]/);
  expect(header).toBe('R\x01');
  const window = await board.readUntil(/[\s\S]{2}/);
  const windowSize = window.charCodeAt(0) | (window.charCodeAt(1) << 8);
  expect(windowSize).toBe(128);
  let credit = windowSize;
  let credits = 0;
  let sent = 0;
  while (sent < source.length) {
    while (credit === 0 || board.pending.length > 0) {
      const byte = await board.readUntil(/[\s\S]/);
      if (byte === '\x01') {
        credit += windowSize;
        credits++;
      } else {
        throw new Error(`unexpected byte during raw paste: ${JSON.stringify(byte)}`);
      }
    }
    const chunk = source.slice(sent, sent + credit);
    board.send(chunk);
    sent += chunk.length;
    credit -= chunk.length;
  }
  board.send('\x04');
  const tail = await board.readUntil('\x04');
  credits += [...tail.slice(0, -1)].filter((c) => c === '\x01').length;
  const stdout = await board.readUntil('\x04');
  const stderr = await board.readUntil('\x04');
  await board.readUntil('>');
  return { credits, result: stdout + stderr };
}

describe('raw REPL', () => {
  it('enters from the friendly prompt with the exact bytes mpremote expects', async () => {
    board.send('\r\x03');
    expect(await board.readUntil('>>> ')).toBe('\r\n>>> ');
    expect(await board.readUntil('>>> ')).toBe('\r\n>>> ');
    board.send('\r\x01');
    expect(await board.readUntil('CTRL-B to exit\r\n>')).toBe('\r\n>>> \r\nraw REPL; CTRL-B to exit\r\n>');
    // Ctrl-A again (with a stray CR in the buffer) only reprints the banner.
    board.send('\r\x01');
    expect(await board.readUntil('>')).toBe('raw REPL; CTRL-B to exit\r\n>');
  });

  it('frames output: OK, stdout, \\x04, empty stderr, \\x04, >', async () => {
    board.send('print("hello")\nprint(1+1)\x04');
    expect(await board.readUntil('>')).toBe('OKhello\r\n2\r\n\x04\x04>');
  });

  it('puts an exception traceback in the stderr part', async () => {
    expect(await board.execRaw('x = 1\n1/0')).toEqual({
      stdout: '',
      stderr: 'Traceback (most recent call last):\r\n  File "<stdin>", line 2, in <module>\r\nZeroDivisionError: divide by zero\r\n',
    });
  });

  it('reports a syntax error in the stderr part with empty stdout', async () => {
    expect(await board.execRaw('def f(:\n  pass')).toEqual({
      stdout: '',
      stderr: 'Traceback (most recent call last):\r\n  File "<stdin>", line 1\r\nSyntaxError: invalid syntax\r\n',
    });
  });

  it('empties the line buffer on Ctrl-C without printing', async () => {
    board.send('print("discarded")\x03print("kept")\x04');
    expect(await board.readUntil('>')).toBe('OKkept\r\n\x04\x04>');
  });

  it('hides the simulator\'s own modules from tracebacks', async () => {
    const { stderr } = await board.execRaw('import machine\nmachine.freq(123)');
    expect(stderr).toBe(
      'Traceback (most recent call last):\r\n  File "<stdin>", line 2, in <module>\r\nValueError: frequency must be 20MHz, 40MHz, 80Mhz, 160MHz or 240MHz\r\n',
    );
  });
});

describe('raw-paste mode', () => {
  it('accepts with R\\x01, window 128 (little-endian) and \\x01, and runs without OK', async () => {
    board.send('\x05A\x01');
    expect(await board.readUntil('\x01\x80\x00\x01')).toBe('R\x01\x80\x00\x01');
    board.send('print("pasted")\x04');
    expect(await board.readUntil('>')).toBe('\x04pasted\r\n\x04\x04>');
  });

  it('returns one \\x01 credit per 128 consumed bytes, so a host within its credit completes 5 kB', async () => {
    const lines: string[] = [];
    for (let i = 0; lines.join('\n').length < 5000; i++) lines.push(`v${i} = ${i} * 2  # padding to make the source long enough`);
    lines.push('print(sum(v for k, v in globals().items() if k.startswith("v") and k[1:].isdigit()))');
    const source = lines.join('\n');
    const n = lines.length - 1;
    const { credits, result } = await rawPaste(source);
    expect(result).toBe(`${n * (n - 1)}\r\n\x04\x04`);
    // The acceptance's trailing \x01 (a second window), then one per 128 bytes consumed.
    expect(credits).toBe(1 + Math.floor(source.length / 128));
  });

  it('reports a syntax error after the transfer in the stderr part', async () => {
    const { result } = await rawPaste('x = (1,\n');
    expect(result).toMatch(/^\x04Traceback \(most recent call last\):\r\n {2}File "<stdin>", line \d+\r\nSyntaxError: [^\r\n]+\r\n\x04$/);
  });

  it('ends the transfer on Ctrl-C with \\x04 and reports KeyboardInterrupt', async () => {
    board.send('\x05A\x01');
    await board.readUntil('R\x01\x80\x00\x01');
    board.send('print("never")\x03');
    expect(await board.readUntil('>')).toBe('\x04\x04KeyboardInterrupt: \r\n\x04>');
    // Back in the raw REPL.
    expect(await board.execRaw('print("after")')).toEqual({ stdout: 'after\r\n', stderr: '' });
  });

  it('refuses an unknown sub-command with R\\x00 and the prompt', async () => {
    board.send('\x05B\x01');
    expect(await board.readUntil('>')).toBe('R\x00>');
    expect(await board.execRaw('print(2)')).toEqual({ stdout: '2\r\n', stderr: '' });
  });

  it('runs source containing control bytes in string literals', async () => {
    const { result } = await rawPaste('print(len("a\x01b\x02c"))');
    expect(result).toBe('5\r\n\x04\x04');
  });
});

describe('leaving the raw REPL', () => {
  it('Ctrl-B prints the board banner, not the WebAssembly build\'s', async () => {
    board.send('\r\x02');
    expect(await board.readUntil('>>> ')).toBe(
      '\r\nMicroPython v1.24.1 on 2024-11-29; Generic ESP32S3 module with ESP32S3\r\nType "help()" for more information.\r\n>>> ',
    );
    board.send('1+2\r');
    expect(await board.readUntil('>>> ')).toBe('1+2\r\n3\r\n>>> ');
  });
});
