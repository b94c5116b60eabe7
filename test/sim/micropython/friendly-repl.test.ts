/**
 * The friendly REPL through the board's front-end: empty lines, line ends, continuation lines,
 * paste mode and history (micropython-host-protocols.md §1.1, §11.1; shared/readline/readline.c).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FriendlyLineTracker } from '../../../sim/micropython/friendly-line-tracker.ts';
import { HostHarness } from './host-harness.ts';

let board: HostHarness;

beforeAll(async () => {
  ({ harness: board } = await HostHarness.boot());
});
afterAll(async () => {
  await board.stop();
});

describe('friendly REPL', () => {
  it('answers Enter on an empty line with a fresh prompt, for \\r, \\r\\n and \\n', async () => {
    board.send('\r');
    expect(await board.readUntil('>>> ')).toBe('\r\n>>> ');
    board.send('\r\n');
    expect(await board.readUntil('>>> ')).toBe('\r\n>>> ');
    board.send('\n');
    expect(await board.readUntil('>>> ')).toBe('\r\n>>> ');
  });

  it('runs a line ended by \\r\\n once and prints results with \\r\\n', async () => {
    board.send('6 * 7\r\n');
    expect(await board.readUntil('>>> ')).toBe('6 * 7\r\n42\r\n>>> ');
    board.send('\r');
    expect(await board.readUntil('>>> ')).toBe('\r\n>>> ');
  });

  it('continues compound statements with auto-indent; Enter dedents, then ends the block', async () => {
    board.send('for i in range(2):\r');
    expect(await board.readUntil('...     ')).toBe('for i in range(2):\r\n...     ');
    board.send('print(i)\r');
    await board.readUntil('...     ');
    board.send('\r\r\r');
    expect(await board.readUntil('>>> ')).toBe('\r\n...     \r\n... \r\n0\r\n1\r\n>>> ');
  });

  it('runs a paste-mode block (Ctrl-E … Ctrl-D)', async () => {
    board.send('\x05');
    expect(await board.readUntil('=== ')).toBe('\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== ');
    board.send('a = 1\rprint(a + 1)\r\x04');
    expect(await board.readUntil('>>> ')).toBe('a = 1\r\n=== print(a + 1)\r\n=== \r\n2\r\n>>> ');
  });

  it('recalls history with the up arrow', async () => {
    board.send('print("again")\r');
    await board.readUntil('>>> ');
    board.send('\x1b[A');
    await board.readUntil('print("again")');
    board.send('\r');
    expect(await board.readUntil('>>> ')).toBe('\r\nagain\r\n>>> ');
  });
});

describe('FriendlyLineTracker', () => {
  it('follows typing and backspace, and gives up after editing keys that printed something', () => {
    const line = new FriendlyLineTracker();
    expect(line.certainlyEmpty).toBe(true);
    line.fed(0x61, 1);
    expect(line.certainlyEmpty).toBe(false);
    line.fed(0x08, 3);
    expect(line.certainlyEmpty).toBe(true);
    line.fed(0x08, 0);
    expect(line.certainlyEmpty).toBe(true);
    line.fed(0x0a, 0); // ignored silently
    expect(line.certainlyEmpty).toBe(true);
    line.fed(0x09, 4); // Tab completion printed something
    expect(line.certainlyEmpty).toBe(false);
    line.reset();
    expect(line.certainlyEmpty).toBe(true);
  });

  it('treats a silent cursor key as no change and a history recall as unknown', () => {
    const line = new FriendlyLineTracker();
    for (const b of [0x1b, 0x5b, 0x44]) line.fed(b, 0);
    expect(line.certainlyEmpty).toBe(true);
    line.fed(0x1b, 0);
    expect(line.certainlyEmpty).toBe(false);
    line.fed(0x5b, 0);
    line.fed(0x41, 5);
    expect(line.certainlyEmpty).toBe(false);
  });
});
