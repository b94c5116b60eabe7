/**
 * Splitting a running instance's output as run-multitests.py does: lines end in `\r\n`, the program's
 * stdout ends at `\x04`, the traceback runs to the next `\x04`; non-ASCII bytes become `\xNN`.
 */
import { describe, expect, it } from 'vitest';
import { isHilError } from '../../runner/errors.ts';
import { decodeAscii, decodeOutput, InstanceLineReader } from '../../runner/multitest/instance-line-reader.ts';
import { ByteReader } from '../../runner/repl/byte-reader.ts';
import { HandFedLink } from '../repl/hand-fed-link.ts';
import { flushTasks, ManualClock } from '../repl/manual-clock.ts';


function setup(): { link: HandFedLink; clock: ManualClock; lines: InstanceLineReader } {
  const link = new HandFedLink();
  const clock = new ManualClock();
  return { link, clock, lines: new InstanceLineReader(new ByteReader(link, { clock }), clock) };
}

describe('InstanceLineReader', () => {
  it('returns lines split across chunks, right-stripped, then the text before \\x04 and the traceback', async () => {
    const { link, clock, lines } = setup();
    const deadline = clock.now() + 1000;
    link.feed('hel');
    link.feed('lo  \r\nsecond\r');
    link.feed('\nlast\x04Traceback (most recent call last):\r\nValueError: x\r\n\x04>');
    expect(await lines.nextPiece(deadline)).toEqual({ text: 'hello', end: 'line' });
    expect(await lines.nextPiece(deadline)).toEqual({ text: 'second', end: 'line' });
    expect(await lines.nextPiece(deadline)).toEqual({ text: 'last', end: 'eot' });
    expect(await lines.untilEot(deadline)).toEqual({ text: 'Traceback (most recent call last):\r\nValueError: x\r\n', complete: true });
  });

  it('waits for a line to complete and reports a timeout when none does by the deadline', async () => {
    const { link, clock, lines } = setup();
    const pending = lines.nextPiece(clock.now() + 500);
    link.feed('partial');
    await flushTasks();
    clock.advance(499);
    link.feed(' line\r\n');
    expect(await pending).toEqual({ text: 'partial line', end: 'line' });
    const silent = lines.nextPiece(clock.now() + 500);
    await flushTasks();
    clock.advance(500);
    expect(await silent).toBe('timeout');
  });

  it('fails with LINK_GONE when the link vanishes and with ABORTED when cancelled', async () => {
    const { link, clock, lines } = setup();
    const abort = new AbortController();
    const cancelled = lines.nextPiece(clock.now() + 1000, abort.signal).catch((err: unknown) => err);
    abort.abort();
    expect(isHilError(await cancelled, 'ABORTED')).toBe(true);
    const gone = lines.nextPiece(clock.now() + 1000).catch((err: unknown) => err);
    link.vanish();
    expect(isHilError(await gone, 'LINK_GONE')).toBe(true);
  });

  it('decodes like Python: ASCII with backslashreplace, rstrip of ASCII whitespace only', () => {
    expect(decodeAscii(Uint8Array.of(0x41, 0xc3, 0xa9, 0x0a))).toBe('A\\xc3\\xa9\n');
    expect(decodeOutput(new TextEncoder().encode('x \t\x0b\x0c\r\n'))).toBe('x');
    expect(decodeOutput(Uint8Array.of(0x78, 0x1f))).toBe('x\x1f');
  });
});
