import { afterEach, describe, expect, it } from 'vitest';
import { BROADCAST_MAC } from '../../../sim/radio/mac-address.ts';
import type { RadioMedium } from '../../../sim/radio/radio-medium.ts';
import { addBoard, bytes, makeMedium, settle, testMac, type TestBoard } from './radio-fixture.ts';

describe('RadioMedium fault switches', () => {
  let medium: RadioMedium;
  let a: TestBoard;
  let b: TestBoard;
  let c: TestBoard;
  afterEach(() => medium.close());

  function setUp(): ReturnType<typeof makeMedium> {
    const made = makeMedium();
    medium = made.medium;
    a = addBoard(medium, 'a', 1);
    b = addBoard(medium, 'b', 2);
    c = addBoard(medium, 'c', 3);
    return made;
  }

  const send = (from: TestBoard, n: number) => from.radio.send({ dst: testMac(n), payload: bytes('x') });

  it('global loss affects every link until cleared', async () => {
    setUp();
    medium.setGlobalFaults({ lossPercent: 100 });
    expect((await send(a, 2)).acked).toBe(false);
    await a.radio.send({ dst: BROADCAST_MAC, payload: bytes('x') });
    expect(b.inbox.length + c.inbox.length).toBe(0);
    medium.clearFaults();
    expect((await send(a, 2)).acked).toBe(true);
  });

  it('board loss affects only frames to and from that board', async () => {
    setUp();
    medium.setBoardFaults('c', { lossPercent: 100 });
    expect((await send(a, 2)).acked).toBe(true);
    expect((await send(a, 3)).acked).toBe(false);
    expect((await send(c, 1)).acked).toBe(false);
    expect(medium.describeLink('a', 'c').lossProbability).toBe(1);
    expect(medium.describeLink('a', 'b').lossProbability).toBe(0);
  });

  it('combines link and fault losses as independent', () => {
    setUp();
    medium.setLink('a', 'b', { lossPercent: 50 });
    medium.setGlobalFaults({ lossPercent: 50 });
    medium.setBoardFaults('b', { lossPercent: 50 });
    expect(medium.describeLink('a', 'b').lossProbability).toBeCloseTo(1 - 0.5 ** 3, 12);
  });

  it('a muted board is never heard: its sends fail, its peers get no ACK, but it still receives', async () => {
    setUp();
    medium.setBoardFaults('b', { muted: true });
    expect(await send(b, 1)).toEqual({ acked: false, attempts: 7 });
    await b.radio.send({ dst: BROADCAST_MAC, payload: bytes('x') });
    expect(a.inbox.length + c.inbox.length).toBe(0);
    expect(await send(a, 2)).toEqual({ acked: false, attempts: 7 });
    expect(b.inbox).toHaveLength(1); // retries of the same frame are delivered once
    medium.setBoardFaults('b', { muted: false });
    expect((await send(b, 1)).acked).toBe(true);
  });

  it('adds lab-wide and per-board extra latency', async () => {
    const { clock } = setUp();
    medium.setGlobalFaults({ extraLatencyMs: 3 });
    medium.setBoardFaults('a', { extraLatencyMs: 2 });
    expect(medium.describeLink('a', 'b').latencyMs).toBe(5);
    expect(medium.describeLink('b', 'c').latencyMs).toBe(3);
    void send(a, 2);
    void send(b, 3);
    await settle();
    clock.advance(3);
    expect(c.inbox.map((frame) => frame.atMs)).toEqual([3]);
    expect(b.inbox).toHaveLength(0);
    clock.advance(2);
    expect(b.inbox.map((frame) => frame.atMs)).toEqual([5]);
  });

  it('keeps fields that a later call leaves out, and rejects bad values', () => {
    setUp();
    medium.setBoardFaults('a', { lossPercent: 20 });
    medium.setBoardFaults('a', { extraLatencyMs: 4 });
    expect(medium.describeLink('a', 'b')).toMatchObject({ lossProbability: expect.closeTo(0.2, 12), latencyMs: 4 });
    expect(() => medium.setGlobalFaults({ lossPercent: -1 })).toThrow(RangeError);
    expect(() => medium.setBoardFaults('a', { extraLatencyMs: Number.NaN })).toThrow(RangeError);
  });
});
