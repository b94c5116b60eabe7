/** Board side of raw-paste flow control (sim/micropython/raw-paste-receiver.ts). */
import { describe, expect, it } from 'vitest';
import { RawPasteReceiver, rawPasteAcceptReply } from '../../../sim/micropython/raw-paste-receiver.ts';

describe('raw-paste receiver', () => {
  it('accepts with R\\x01, the window as little-endian u16 and \\x01', () => {
    expect([...rawPasteAcceptReply()]).toEqual([0x52, 0x01, 0x80, 0x00, 0x01]);
    expect([...rawPasteAcceptReply(32)]).toEqual([0x52, 0x01, 0x20, 0x00, 0x01]);
  });

  it('returns a credit after every window of consumed bytes and collects the source', () => {
    let credits = 0;
    const receiver = new RawPasteReceiver(() => credits++, 128);
    const source = Uint8Array.from({ length: 1000 }, (_, i) => 0x20 + (i % 90));
    for (const byte of source) expect(receiver.push(byte)).toBe('more');
    expect(credits).toBe(7);
    expect(receiver.push(0x04)).toBe('end');
    expect(receiver.source()).toEqual(source);
  });

  it('ends on Ctrl-C with "interrupted"; control bytes other than Ctrl-C/Ctrl-D are data', () => {
    const receiver = new RawPasteReceiver(() => {}, 128);
    expect(receiver.push(0x01)).toBe('more');
    expect(receiver.push(0x02)).toBe('more');
    expect(receiver.push(0x03)).toBe('interrupted');
    expect([...receiver.source()]).toEqual([0x01, 0x02]);
  });
});
