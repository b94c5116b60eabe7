/**
 * Ctrl-C while code runs (busy loops, sleeps, stdin reads) and stdin during execution
 * (micropython-host-protocols.md §1.1, §1.7, §11.6).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostHarness } from './host-harness.ts';

let board: HostHarness;

beforeAll(async () => {
  ({ harness: board } = await HostHarness.boot());
  await board.enterRawRepl();
});
afterAll(async () => {
  await board.stop();
});

const INTERRUPTED = (line: number) =>
  `\x04Traceback (most recent call last):\r\n  File "<stdin>", line ${line}, in <module>\r\nKeyboardInterrupt: \r\n\x04>`;

describe('Ctrl-C while code runs', () => {
  it('interrupts `while True: pass` at top level', async () => {
    board.send('print("spinning")\nwhile True: pass\x04');
    expect(await board.readUntil('spinning\r\n')).toBe('OKspinning\r\n');
    board.send('\x03');
    expect(await board.readUntil('\x04>')).toBe(INTERRUPTED(2));
  });

  it('interrupts a busy loop inside a function', async () => {
    board.send('def spin():\n    n = 0\n    while True:\n        n += 1\nprint("go")\nspin()\x04');
    await board.readUntil('go\r\n');
    board.send('\x03');
    expect(await board.readUntil('\x04>')).toMatch(/in <module>\r\n {2}File "<stdin>", line 4, in spin\r\nKeyboardInterrupt: \r\n\x04>$/);
  });

  it('interrupts time.sleep(100) with the caller as the only frame', async () => {
    board.send('import time\nprint("sleeping")\ntime.sleep(100)\x04');
    await board.readUntil('sleeping\r\n');
    board.send('\x03');
    expect(await board.readUntil('\x04>')).toBe(INTERRUPTED(3));
  });

  it('interrupts time.sleep_ms and time.sleep_us too', async () => {
    board.send('import time\nprint("ms")\ntime.sleep_ms(100000)\x04');
    await board.readUntil('ms\r\n');
    board.send('\x03');
    expect(await board.readUntil('\x04>')).toBe(INTERRUPTED(3));
  });

  it('leaves no interrupt pending for the next command', async () => {
    expect(await board.execRaw('for i in range(1000): pass\nprint("clean")')).toEqual({ stdout: 'clean\r\n', stderr: '' });
  });

  it('obeys micropython.kbd_intr(-1): Ctrl-C becomes ordinary input', async () => {
    board.send('import micropython, sys\nmicropython.kbd_intr(-1)\nprint("reading")\nprint(repr(sys.stdin.read(1)))\nmicropython.kbd_intr(3)\x04');
    await board.readUntil('reading\r\n');
    board.send('\x03');
    expect(await board.readUntil('\x04>')).toBe("'\\x03'\r\n\x04\x04>");
  });
});

describe('stdin while code runs', () => {
  it('delivers host lines to sys.stdin.readline()', async () => {
    board.send('import sys\nprint("ready")\nline = sys.stdin.readline()\nprint("got", repr(line))\x04');
    await board.readUntil('ready\r\n');
    board.send('BROADCAST hello\r\n');
    expect(await board.readUntil('\x04>')).toBe("got 'BROADCAST hello\\r\\n'\r\n\x04\x04>");
  });

  it('keeps bytes sent before the read in order', async () => {
    board.send('import sys, time\ntime.sleep_ms(50)\nprint(repr(sys.stdin.read(6)))\x04abcdef');
    expect(await board.readUntil('\x04>')).toBe("OK'abcdef'\r\n\x04\x04>");
  });

  it('interrupts a blocking read with Ctrl-C', async () => {
    board.send('import sys\nprint("waiting")\nsys.stdin.readline()\x04');
    await board.readUntil('waiting\r\n');
    board.send('\x03');
    expect(await board.readUntil('\x04>')).toBe(INTERRUPTED(3));
  });

  it('select.poll() waits for stdin without spinning and reports it ready', async () => {
    const before = process.cpuUsage();
    const startedAt = performance.now();
    expect(await board.execRaw('import select, sys\np = select.poll()\np.register(sys.stdin, select.POLLIN)\nprint(p.poll(500))')).toEqual({ stdout: '[]\r\n', stderr: '' });
    const used = process.cpuUsage(before);
    expect((used.user + used.system) / 1000 / (performance.now() - startedAt)).toBeLessThan(0.5);
    board.send('print("polling")\nprint(p.poll(10000), sys.stdin.read(1))\x04');
    await board.readUntil('polling\r\n');
    board.send('z');
    expect(await board.readUntil('\x04>')).toBe('[(<io.TextIOWrapper 0>, 1)] z\r\n\x04\x04>');
    board.send('print("forever")\np.poll()\x04');
    await board.readUntil('forever\r\n');
    board.send('\x03');
    expect(await board.readUntil('\x04>')).toBe(INTERRUPTED(2));
  });

  it('provides input() with echo', async () => {
    board.send('x = input("name? ")\nprint("hi", x)\x04');
    await board.readUntil('name? ');
    board.send('bob\r');
    expect(await board.readUntil('\x04>')).toBe('bob\r\nhi bob\r\n\x04\x04>');
  });
});

describe('Ctrl-C in the friendly REPL', () => {
  it('abandons the line at the prompt and interrupts a running statement', async () => {
    board.send('\r\x02');
    await board.readUntil('>>> ');
    board.send('abc\x03');
    expect(await board.readUntil('>>> ')).toBe('abc\r\n>>> ');
    board.send('while True: pass\r');
    await board.readUntil('while True: pass\r\n');
    board.send('\r');
    await new Promise((resolve) => setTimeout(resolve, 50));
    board.send('\x03');
    expect(await board.readUntil('>>> ')).toMatch(/KeyboardInterrupt: \r\n/);
  });
});
