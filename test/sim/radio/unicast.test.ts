import { afterEach, describe, expect, it } from 'vitest';
import type { RadioMedium } from '../../../sim/radio/radio-medium.ts';
import { addBoard, bytes, makeMedium, settle, testMac, texts } from './radio-fixture.ts';

describe('RadioMedium unicast', () => {
  let medium: RadioMedium;
  afterEach(() => medium.close());

  it('delivers to the peer with that MAC and reports the MAC-layer ACK', async () => {
    const made = makeMedium();
    medium = made.medium;
    const a = addBoard(medium, 'a', 1);
    const b = addBoard(medium, 'b', 2);
    const c = addBoard(medium, 'c', 3);
    const outcome = await a.radio.send({ dst: testMac(2), payload: bytes('hello') });
    expect(outcome).toEqual({ acked: true, attempts: 1 });
    expect(texts(b.inbox)).toEqual(['hello']);
    expect(c.inbox).toEqual([]);
    expect(b.inbox[0]).toMatchObject({ src: testMac(1), rssiDbm: -40, atMs: 0, wasEncrypted: false });
    expect(a.radio.counters).toMatchObject({ txFrames: 1, txAcked: 1, txFailed: 0, txAttempts: 1 });
    expect(b.radio.counters).toMatchObject({ rxDelivered: 1, rxRejected: 0 });
    expect(made.clock.pending).toBe(0);
  });

  it('ACKs at the MAC layer while ESP-NOW is inactive, without delivering', async () => {
    medium = makeMedium().medium;
    const a = addBoard(medium, 'a', 1);
    const b = addBoard(medium, 'b', 2);
    b.radio.setEspNow(null);
    expect(await a.radio.send({ dst: testMac(2), payload: bytes('x') })).toEqual({ acked: true, attempts: 1 });
    expect(b.inbox).toEqual([]);
    expect(b.radio.counters.rxRejected).toBe(1);
  });

  it.each([
    ['the peer has Wi-Fi off', (peer: ReturnType<typeof addBoard>) => peer.radio.setWifiActive(false)],
    ['the peer is on another channel', (peer: ReturnType<typeof addBoard>) => peer.radio.setChannel(6)],
    ['the peer has detached', (peer: ReturnType<typeof addBoard>) => peer.radio.detach()],
  ])('is not acknowledged after all retries when %s', async (_name, breakPeer) => {
    medium = makeMedium().medium;
    const a = addBoard(medium, 'a', 1);
    const b = addBoard(medium, 'b', 2);
    breakPeer(b);
    expect(await a.radio.send({ dst: testMac(2), payload: bytes('x') })).toEqual({ acked: false, attempts: 7 });
    expect(b.inbox).toEqual([]);
    expect(a.radio.counters).toMatchObject({ txFrames: 1, txAcked: 0, txFailed: 1, txAttempts: 7 });
  });

  it('is not acknowledged for a MAC nobody has', async () => {
    medium = makeMedium({ unicastRetries: 2 }).medium;
    const a = addBoard(medium, 'a', 1);
    expect(await a.radio.send({ dst: testMac(9), payload: bytes('x') })).toEqual({ acked: false, attempts: 3 });
  });

  it('reaches a peer that moved to the same channel as the sender', async () => {
    medium = makeMedium().medium;
    const a = addBoard(medium, 'a', 1);
    const b = addBoard(medium, 'b', 2);
    a.radio.setChannel(11);
    b.radio.setChannel(11);
    expect((await a.radio.send({ dst: testMac(2), payload: bytes('x') })).acked).toBe(true);
    expect(b.inbox).toHaveLength(1);
  });

  it('sends nothing while the sender’s Wi-Fi is off', async () => {
    medium = makeMedium().medium;
    const a = addBoard(medium, 'a', 1);
    const b = addBoard(medium, 'b', 2);
    a.radio.setWifiActive(false);
    expect(await a.radio.send({ dst: testMac(2), payload: bytes('x') })).toEqual({ acked: false, attempts: 0 });
    expect(b.inbox).toEqual([]);
    expect(a.radio.counters).toMatchObject({ txFrames: 0, txFailed: 1 });
  });

  it('delivers after send() returns, in order, with the payload copied at the call', async () => {
    medium = makeMedium().medium;
    const a = addBoard(medium, 'a', 1);
    const b = addBoard(medium, 'b', 2);
    const buffer = bytes('0');
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 100; i++) {
      buffer[0] = 48 + (i % 10);
      sends.push(a.radio.send({ dst: testMac(2), payload: buffer }));
      expect(b.inbox).toHaveLength(0);
    }
    await Promise.all(sends);
    expect(texts(b.inbox)).toEqual(Array.from({ length: 100 }, (_, i) => String(i % 10)));
  });

  it('lets a receiver answer from inside its hook (echo)', async () => {
    medium = makeMedium().medium;
    const a = addBoard(medium, 'a', 1);
    const b = addBoard(medium, 'b', 2);
    b.radio.setEspNow((frame) => void b.radio.send({ dst: frame.src, payload: frame.payload }));
    await a.radio.send({ dst: testMac(2), payload: bytes('ping') });
    await settle();
    expect(texts(a.inbox)).toEqual(['ping']);
  });

  it('rejects malformed requests synchronously', () => {
    medium = makeMedium().medium;
    const a = addBoard(medium, 'a', 1);
    expect(() => a.radio.send({ dst: new Uint8Array(5), payload: bytes('x') })).toThrow(RangeError);
    expect(() => a.radio.send({ dst: testMac(2), payload: new Uint8Array(0) })).toThrow(RangeError);
    expect(() => a.radio.send({ dst: testMac(2), payload: new Uint8Array(1471) })).toThrow(RangeError);
    expect(() => a.radio.setChannel(0)).toThrow(RangeError);
    expect(() => a.radio.setChannel(15)).toThrow(RangeError);
    expect(() => a.radio.setChannel(2.5)).toThrow(RangeError);
    expect(() => a.radio.setPhyRateMbps(0)).toThrow(RangeError);
  });

  it('refuses a second radio with the same board id or MAC, and frees both on detach', () => {
    medium = makeMedium().medium;
    const a = addBoard(medium, 'a', 1);
    expect(() => medium.attach({ boardId: 'a', mac: testMac(5) })).toThrow(/already attached/);
    expect(() => medium.attach({ boardId: 'z', mac: testMac(1) })).toThrow(/already attached/);
    a.radio.detach();
    expect(() => medium.attach({ boardId: 'a', mac: testMac(1) })).not.toThrow();
  });

  it('close() resolves pending sends as not sent and leaves no timers', async () => {
    const made = makeMedium({ timeModel: 'air-time' });
    medium = made.medium;
    const a = addBoard(medium, 'a', 1);
    addBoard(medium, 'b', 2);
    const first = a.radio.send({ dst: testMac(2), payload: bytes('1') });
    const second = a.radio.send({ dst: testMac(2), payload: bytes('2') });
    await settle();
    expect(made.clock.pending).toBeGreaterThan(0);
    medium.close();
    expect(made.clock.pending).toBe(0);
    expect(await first).toEqual({ acked: false, attempts: 0 });
    expect(await second).toEqual({ acked: false, attempts: 0 });
    expect(await a.radio.send({ dst: testMac(2), payload: bytes('3') })).toEqual({ acked: false, attempts: 0 });
  });
});
