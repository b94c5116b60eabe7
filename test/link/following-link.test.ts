/**
 * FollowingLink: a link that carries on when the board's port vanishes and comes back (native-USB
 * resets): bytes from the new port reach the same listeners, writes made while away wait and land on
 * the new port, the baud rate is applied again, and `onGone` fires only when the board stays away.
 */
import { describe, expect, it } from 'vitest';
import { HilError, isHilError } from '../../runner/errors.ts';
import { FollowingLink } from '../../runner/link/following-link.ts';
import { LinkListeners } from '../../runner/link/link-listeners.ts';
import type { SerialLink } from '../../runner/link/serial-link.ts';

class FakeLink implements SerialLink {
  readonly listeners = new LinkListeners();
  readonly written: number[] = [];
  baudRate = 115200;
  isOpen = true;
  signals = { dtr: false, rts: false };
  constructor(readonly url: string) {}
  async write(data: Uint8Array): Promise<void> {
    if (!this.isOpen) throw new HilError('LINK_GONE', `${this.url} gone`);
    this.written.push(...data);
  }
  onData(listener: (chunk: Uint8Array) => void): () => void { return this.listeners.onData(listener); }
  onGone(listener: (err: Error) => void): () => void { return this.listeners.onGone(listener); }
  async setSignals(): Promise<void> { if (!this.isOpen) throw new HilError('LINK_GONE', 'gone'); }
  async setBaudRate(baudRate: number): Promise<void> { this.baudRate = baudRate; }
  async purgeInput(): Promise<void> {}
  async close(): Promise<void> { this.isOpen = false; }
  vanish(): void {
    this.isOpen = false;
    this.listeners.emitGone(new HilError('LINK_GONE', `${this.url} vanished`));
  }
}

describe('FollowingLink', () => {
  it('follows the board to its new port: data, pending writes and the baud rate carry over', async () => {
    const first = new FakeLink('/dev/ttyACM0');
    const second = new FakeLink('/dev/ttyACM1');
    let release: () => void = () => undefined;
    const back = new Promise<void>((resolve) => { release = resolve; });
    const link = new FollowingLink(first, async () => { await back; return second; });
    const received: string[] = [];
    link.onData((chunk) => received.push(Buffer.from(chunk).toString()));
    await link.setBaudRate(921600);
    first.listeners.data.emit(Buffer.from('before'));
    first.vanish();
    const write = link.write(Buffer.from('sync'));
    release();
    await write;
    expect(Buffer.from(second.written).toString()).toBe('sync');
    expect(second.baudRate).toBe(921600);
    expect(link.url).toBe('/dev/ttyACM1');
    second.listeners.data.emit(Buffer.from('after'));
    expect(received).toEqual(['before', 'after']);
    expect(link.reopenCount).toBe(1);
    expect(link.isOpen).toBe(true);
    await link.close();
    expect(second.isOpen).toBe(false);
  });

  it('repeats an operation that hit the vanished port before its gone event', async () => {
    const first = new FakeLink('a');
    const second = new FakeLink('b');
    const link = new FollowingLink(first, async () => second);
    first.isOpen = false; // the socket is dead, the gone event has not come yet
    await link.write(Uint8Array.of(1, 2));
    expect(second.written).toEqual([1, 2]);
  });

  it('reports gone when the board does not come back', async () => {
    const first = new FakeLink('a');
    const link = new FollowingLink(first, async () => { throw new HilError('BOARD_NOT_ENUMERATED', 'not back within 100 ms'); });
    const gone: Error[] = [];
    link.onGone((err) => gone.push(err));
    first.vanish();
    await new Promise((r) => setTimeout(r, 10));
    expect(gone.map((e) => (isHilError(e) ? e.code : e.message))).toEqual(['BOARD_NOT_ENUMERATED']);
    expect(link.isOpen).toBe(false);
    await expect(link.write(Uint8Array.of(1))).rejects.toThrow(/gone/);
  });
});
