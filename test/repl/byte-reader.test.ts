import { describe, expect, it } from 'vitest';
import { isHilError, type HilError } from '../../runner/errors.ts';
import { ByteReader } from '../../runner/repl/byte-reader.ts';
import { HandFedLink } from './hand-fed-link.ts';
import { flushTasks, ManualClock } from './manual-clock.ts';

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);


async function rejection(promise: Promise<unknown>): Promise<HilError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isHilError(err)) throw new Error(`expected a HilError, got ${String(err)}`);
  return err;
}

describe('ByteReader', () => {
  it('reads until a pattern split across chunks and returns what came before it', async () => {
    const link = new HandFedLink();
    const reader = new ByteReader(link);
    const pending = reader.readUntil('raw REPL; CTRL-B to exit\r\n>', { timeoutMs: 1000 });
    link.feed('\x00garbage> raw RE');
    link.feed('PL; CTRL-B to e');
    link.feed('xit\r\n>tail');
    expect(text(await pending)).toBe('\x00garbage> raw REPL; CTRL-B to exit\r\n>');
    expect(reader.available).toBe(4);
    expect(text(reader.readAvailable())).toBe('tail');
    expect(reader.available).toBe(0);
  });

  it('finds a pattern already buffered without waiting', async () => {
    const link = new HandFedLink();
    const reader = new ByteReader(link);
    link.feed('ab\x04cd\x04');
    expect(text(await reader.readUntil(Uint8Array.of(4), { timeoutMs: 0 }))).toBe('ab\x04');
    expect(text(await reader.readUntil(Uint8Array.of(4), { timeoutMs: 0 }))).toBe('cd\x04');
  });

  it('reads exact byte counts', async () => {
    const link = new HandFedLink();
    const reader = new ByteReader(link);
    const pending = reader.readExact(3, { timeoutMs: 1000 });
    link.feed('R');
    link.feed(Uint8Array.of(0x01, 0x80, 0x00));
    expect([...(await pending)]).toEqual([0x52, 0x01, 0x80]);
    expect([...(await reader.readExact(1, { timeoutMs: 0 }))]).toEqual([0x00]);
  });

  it('drain discards only what is buffered', async () => {
    const link = new HandFedLink();
    const reader = new ByteReader(link);
    link.feed('old bytes');
    expect(reader.drain()).toBe(9);
    link.feed('new');
    expect(text(await reader.readExact(3, { timeoutMs: 10 }))).toBe('new');
  });

  it('times out at the deadline with phase and last bytes as evidence', async () => {
    const clock = new ManualClock();
    const link = new HandFedLink();
    const reader = new ByteReader(link, { clock, boardId: 's3-a', portPath: '1-1.3' });
    const pending = rejection(reader.readUntil('>', { timeoutMs: 5000, phase: 'enter raw REPL: banner' }));
    link.feed('MicroPython v1.24\x1b[0m\r\n');
    clock.advance(4999);
    await flushTasks(2);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(1);
    const err = await pending;
    expect(err.code).toBe('TIMEOUT');
    expect(err.evidence).toMatchObject({ phase: 'enter raw REPL: banner', boardId: 's3-a', portPath: '1-1.3', timeoutMs: 5000 });
    expect(err.evidence.lastBytes).toBe('MicroPython v1.24\\x1b[0m\\r\\n');
    expect(err.message).toContain('enter raw REPL: banner');
    expect(clock.pendingTimers).toBe(0);
  });

  it('applies the idle timeout between bytes', async () => {
    const clock = new ManualClock();
    const link = new HandFedLink();
    const reader = new ByteReader(link, { clock });
    const pending = rejection(reader.readUntil('\x04', { timeoutMs: 60_000, idleTimeoutMs: 1000 }));
    await flushTasks(1);
    clock.advance(900);
    link.feed('still talking');
    await flushTasks(1);
    clock.advance(900);
    await flushTasks(1);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(100);
    const err = await pending;
    expect(err.code).toBe('TIMEOUT');
    expect(err.evidence.idleTimeoutMs).toBe(1000);
  });

  it('fails with LINK_GONE when the link vanishes mid-read, and on later reads', async () => {
    const link = new HandFedLink();
    const reader = new ByteReader(link);
    const pending = rejection(reader.readUntil('\x04', { timeoutMs: 60_000, phase: 'exec: stdout' }));
    link.feed('partial output');
    link.vanish();
    const err = await pending;
    expect(err.code).toBe('LINK_GONE');
    expect(err.evidence.phase).toBe('exec: stdout');
    expect(reader.drain()).toBe('partial output'.length);
    expect((await rejection(reader.readExact(1, { timeoutMs: 10 }))).code).toBe('LINK_GONE');
  });

  it('still returns bytes that arrived before the link vanished', async () => {
    const link = new HandFedLink();
    const reader = new ByteReader(link);
    link.feed('last words\x04');
    link.vanish();
    expect(text(await reader.readUntil('\x04', { timeoutMs: 10 }))).toBe('last words\x04');
  });

  it('fails with LINK_GONE when the link was closed', async () => {
    const link = new HandFedLink();
    const reader = new ByteReader(link);
    await link.close();
    expect((await rejection(reader.readExact(1, { timeoutMs: 60_000 }))).code).toBe('LINK_GONE');
  });

  it('fails with ABORTED when the signal fires', async () => {
    const link = new HandFedLink();
    const reader = new ByteReader(link);
    const controller = new AbortController();
    const pending = rejection(reader.readUntil('>', { timeoutMs: 60_000, signal: controller.signal }));
    controller.abort(new Error('user cancelled'));
    expect((await pending).code).toBe('ABORTED');
  });

  it('waits for quiet without consuming, bounded by its deadline', async () => {
    const clock = new ManualClock();
    const link = new HandFedLink();
    const reader = new ByteReader(link, { clock });
    let done = false;
    const quiet = reader.waitForQuiet(100, { timeoutMs: 10_000 }).then(() => (done = true));
    link.feed('boot log');
    await flushTasks(2);
    clock.advance(60);
    link.feed(' more');
    await flushTasks(2);
    clock.advance(60);
    await flushTasks(2);
    expect(done).toBe(false);
    clock.advance(40);
    await quiet;
    expect(text(reader.readAvailable())).toBe('boot log more');

    link.feed('x');
    const chatty = rejection(reader.waitForQuiet(100, { timeoutMs: 250, phase: 'settle' }));
    for (let i = 0; i < 5; i++) {
      link.feed('x');
      await flushTasks(1);
      clock.advance(60);
    }
    const err = await chatty;
    expect(err.code).toBe('TIMEOUT');
    expect(err.evidence.phase).toBe('settle');
  });

  it('keeps a bounded transcript of everything received, including bytes read', async () => {
    const link = new HandFedLink();
    const reader = new ByteReader(link, { transcriptBytes: 16 });
    link.feed('0123456789');
    await reader.readExact(10, { timeoutMs: 0 });
    link.feed('abcdefghij');
    expect(reader.transcript.text()).toBe('456789abcdefghij');
    expect(reader.transcript.truncatedBytes).toBe(4);
    reader.transcript.clear();
    expect(reader.transcript.text()).toBe('');
  });

  it('bounds unread bytes by dropping the oldest', async () => {
    const link = new HandFedLink();
    const reader = new ByteReader(link, { maxBufferBytes: 8 });
    link.feed('abcdef');
    link.feed('ghijkl');
    expect(reader.available).toBe(8);
    expect(text(reader.readAvailable())).toBe('efghijkl');
    link.feed('0123456789ABC');
    expect(text(reader.readAvailable())).toBe('6789ABC'.padStart(8, '5'));
  });

  it('refuses overlapping reads', async () => {
    const link = new HandFedLink();
    const reader = new ByteReader(link);
    const first = reader.readExact(1, { timeoutMs: 1000 });
    await expect(reader.readExact(1, { timeoutMs: 1000 })).rejects.toThrow(/overlapping/);
    link.feed('x');
    await first;
  });

  it('dispose stops listening and fails pending reads with LINK_GONE', async () => {
    const link = new HandFedLink();
    const reader = new ByteReader(link);
    const pending = rejection(reader.readExact(1, { timeoutMs: 60_000 }));
    reader.dispose();
    expect((await pending).code).toBe('LINK_GONE');
    link.feed('ignored');
    expect(reader.available).toBe(0);
  });
});
