/**
 * How the board's asyncio loop meets the board: idle waits that use no CPU, Ctrl-C ending
 * asyncio.run() with KeyboardInterrupt as on hardware, tasks waiting for serial input or for objects
 * that report readiness through `ioctl`, and the module names each firmware version has.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostHarness } from '../micropython/host-harness.ts';

let board: HostHarness;

beforeAll(async () => {
  ({ harness: board } = await HostHarness.boot());
  await board.enterRawRepl();
  await run('import asyncio, sys, time');
});
afterAll(async () => {
  await board.stop();
});

async function run(code: string): Promise<string> {
  const { stdout, stderr } = await board.execRaw(code);
  expect(stderr).toBe('');
  return stdout;
}

/** Starts code in the raw REPL, waits until it printed `marker`, sends Ctrl-C; returns the rest up to the prompt. */
async function interruptAfter(code: string, marker: string): Promise<string> {
  board.send(`${code}\x04`);
  await board.readUntil(marker);
  board.send('\x03');
  return board.readUntil('\x04>');
}

describe('idle waits', () => {
  it('use no CPU while every task sleeps', async () => {
    const before = process.cpuUsage();
    const startedAt = performance.now();
    expect(await run('async def main():\n    await asyncio.gather(asyncio.sleep_ms(700), asyncio.sleep_ms(600))\nasyncio.run(main())\nprint("slept")')).toBe('slept\r\n');
    const used = process.cpuUsage(before);
    expect((used.user + used.system) / 1000 / (performance.now() - startedAt)).toBeLessThan(0.5);
  });

  it('use no CPU while a task waits for an event that never comes', async () => {
    board.send('print("waiting")\nasyncio.run(asyncio.Event().wait())\x04');
    await board.readUntil('waiting\r\n');
    const before = process.cpuUsage();
    const startedAt = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 600));
    const used = process.cpuUsage(before);
    expect((used.user + used.system) / 1000 / (performance.now() - startedAt)).toBeLessThan(0.5);
    board.send('\x03');
    expect(await board.readUntil('\x04>')).toMatch(/KeyboardInterrupt: \r\n\x04>$/);
  });
});

describe('Ctrl-C', () => {
  const TAIL = /^\x04Traceback \(most recent call last\):\r\n {2}File "<stdin>", line \d+, in <module>\r\n(?: {2}File .*\r\n)*KeyboardInterrupt: \r\n\x04>$/;

  it('ends asyncio.run() with KeyboardInterrupt while tasks sleep', async () => {
    const out = await interruptAfter('async def main():\n    print("running")\n    await asyncio.sleep(100)\nasyncio.run(main())', 'running\r\n');
    expect(out).toMatch(TAIL);
  });

  it('ends asyncio.run() while a task computes without awaiting, and the board stays usable', async () => {
    const out = await interruptAfter('async def spin():\n    print("spinning")\n    while True:\n        pass\nasyncio.run(spin())', 'spinning\r\n');
    expect(out).toMatch(/in spin\r\nKeyboardInterrupt: \r\n\x04>$/);
    expect(await run('asyncio.new_event_loop()\nprint(asyncio.run(asyncio.sleep_ms(1)))')).toBe('None\r\n');
  });

  it('is not caught by the loop on behalf of a task: try/except Exception in a task does not see it', async () => {
    const out = await interruptAfter(
      'async def guarded():\n    try:\n        print("guarded")\n        await asyncio.sleep(100)\n    except Exception:\n        print("swallowed")\nasyncio.run(guarded())',
      'guarded\r\n',
    );
    expect(out).toMatch(TAIL);
    expect(out).not.toContain('swallowed');
  });
});

describe('I/O waits', () => {
  it('a task waiting for stdin wakes when the host sends a byte, while other tasks keep running', async () => {
    board.send(
      [
        'ticks = []',
        'async def ticker():',
        '    while True:',
        '        ticks.append(1)',
        '        await asyncio.sleep_ms(5)',
        'async def read_key():',
        '    asyncio.create_task(ticker())',
        '    print("ready")',
        '    yield asyncio.core._io_queue.queue_read(sys.stdin)',
        '    return sys.stdin.read(1)',
        'asyncio.new_event_loop()',
        'key = asyncio.run(read_key())',
        'print(repr(key), len(ticks) > 1)\x04',
      ].join('\n'),
    );
    await board.readUntil('ready\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    board.send('k');
    expect(await board.readUntil('\x04>')).toBe("'k' True\r\n\x04\x04>");
  });

  it('polls an object with an ioctl method until it reports readiness', async () => {
    const out = await run(
      [
        'import io',
        'class Ready(io.IOBase):',
        '    def __init__(self):',
        '        self.at = time.ticks_add(time.ticks_ms(), 40)',
        '    def ioctl(self, request, flags):',
        '        return flags if request == 3 and time.ticks_diff(time.ticks_ms(), self.at) >= 0 else 0',
        'async def main():',
        '    r = Ready()',
        '    await asyncio.core.wait_io(r, 1)',
        '    return time.ticks_diff(time.ticks_ms(), r.at) >= 0',
        'asyncio.new_event_loop()',
        'print(asyncio.run(main()))',
      ].join('\n'),
    );
    expect(out).toBe('True\r\n');
  });
});

describe('module names by firmware version', () => {
  const probe = [
    'import sys',
    'def has(name, attr):',
    '    try:',
    '        m = __import__(name)',
    '    except ImportError:',
    '        return "-"',
    '    return attr if hasattr(m, attr) else "no " + attr',
    'print(has("asyncio", "run"), has("uasyncio", "run"), has("aioespnow", "AIOESPNow"))',
    'import uasyncio',
    'print(uasyncio.__name__, sorted(k for k in sys.modules if k.startswith("_board_asyncio")))',
  ].join('\n');

  it('v1.24: asyncio with uasyncio as its alias, and aioespnow', async () => {
    expect(await run(probe)).toBe('run run AIOESPNow\r\nasyncio []\r\n');
    expect(await run('import asyncio.core, uasyncio\nprint(asyncio.core.__name__, uasyncio is asyncio, asyncio.Lock is asyncio.lock.Lock)')).toBe('asyncio.core True True\r\n');
  });

  it('v1.19: only uasyncio (the name asyncio is not the firmware\'s), no aioespnow', async () => {
    const { harness: old } = await HostHarness.boot({ firmware: { version: 'v1.19.1', buildDate: '2022-06-18', boardName: 'ESP32 module', mcuName: 'ESP32' } });
    try {
      await old.enterRawRepl();
      const { stdout, stderr } = await old.execRaw(probe);
      expect(stderr).toBe('');
      expect(stdout).toBe('no run run -\r\nuasyncio []\r\n');
    } finally {
      await old.stop();
    }
  });
});
