import { afterEach, describe, expect, it } from 'vitest';
import { BROADCAST_MAC } from '../../../sim/radio/mac-address.ts';
import type { RadioMedium } from '../../../sim/radio/radio-medium.ts';
import { addBoard, bytes, makeMedium, testMac } from './radio-fixture.ts';

describe('RadioMedium RSSI and range', () => {
  let medium: RadioMedium;
  afterEach(() => medium.close());

  it('reports the bench default without placement, and the log-distance value with it', async () => {
    medium = makeMedium().medium;
    const a = addBoard(medium, 'a', 1);
    const b = addBoard(medium, 'b', 2);
    await a.radio.send({ dst: testMac(2), payload: bytes('x') });
    medium.place('a', { xM: 0, yM: 0 });
    medium.place('b', { xM: 6, yM: 8 }); // 10 m: 20 dBm − 40 dB − 30 · log10(10) = −50 dBm
    await a.radio.send({ dst: testMac(2), payload: bytes('x') });
    medium.place('b', { xM: 0.3, yM: 0 }); // closer than 1 m counts as 1 m
    await a.radio.send({ dst: testMac(2), payload: bytes('x') });
    medium.place('b', { xM: 30, yM: 0 }); // −20 − 30 · 1.477 = −64.3 → −64
    await a.radio.send({ dst: testMac(2), payload: bytes('x') });
    expect(b.inbox.map((frame) => frame.rssiDbm)).toEqual([-40, -50, -20, -64]);
  });

  it('lets a matrix entry override the placement, per direction', async () => {
    medium = makeMedium().medium;
    const a = addBoard(medium, 'a', 1);
    const b = addBoard(medium, 'b', 2);
    medium.place('a', { xM: 0, yM: 0 });
    medium.place('b', { xM: 10, yM: 0 });
    medium.setDirectedLink('a', 'b', { rssiDbm: -71.6 });
    await a.radio.send({ dst: testMac(2), payload: bytes('x') });
    await b.radio.send({ dst: testMac(1), payload: bytes('x') });
    expect(b.inbox[0]?.rssiDbm).toBe(-72);
    expect(a.inbox[0]?.rssiDbm).toBe(-50);
    medium.clearLink('a', 'b');
    expect(medium.describeLink('a', 'b').rssiDbm).toBe(-50);
  });

  it('clamps reported RSSI to −127…0 dBm', () => {
    medium = makeMedium().medium;
    medium.setDirectedLink('a', 'b', { rssiDbm: 12 });
    expect(medium.describeLink('a', 'b').rssiDbm).toBe(0);
  });

  it('hears nothing below the sensitivity (−98 dBm by default)', async () => {
    medium = makeMedium().medium;
    const a = addBoard(medium, 'a', 1);
    const b = addBoard(medium, 'b', 2);
    medium.place('a', { xM: 0, yM: 0 });
    medium.place('b', { xM: 1000, yM: 0 }); // −20 − 90 = −110 dBm
    expect(medium.describeLink('a', 'b')).toMatchObject({ rssiDbm: -110, inRange: false });
    expect((await a.radio.send({ dst: testMac(2), payload: bytes('x') })).acked).toBe(false);
    await a.radio.send({ dst: BROADCAST_MAC, payload: bytes('x') });
    expect(b.inbox).toEqual([]);
  });

  it('delivers but gets no ACK when only the way back is out of range', async () => {
    medium = makeMedium().medium;
    const a = addBoard(medium, 'a', 1);
    const b = addBoard(medium, 'b', 2);
    medium.setDirectedLink('b', 'a', { rssiDbm: -99 });
    expect(await a.radio.send({ dst: testMac(2), payload: bytes('x') })).toEqual({ acked: false, attempts: 7 });
    expect(b.inbox).toHaveLength(1);
  });

  it('takes its sensitivity and default from the options', () => {
    medium = makeMedium({ links: { defaultRssiDbm: -60, sensitivityDbm: -55 } }).medium;
    expect(medium.describeLink('a', 'b')).toMatchObject({ rssiDbm: -60, inRange: false });
  });

  it('rejects non-finite placements and out-of-range link settings', () => {
    medium = makeMedium().medium;
    expect(() => medium.place('a', { xM: Number.NaN, yM: 0 })).toThrow(RangeError);
    expect(() => medium.setLink('a', 'b', { lossPercent: 101 })).toThrow(RangeError);
    expect(() => medium.setLink('a', 'b', { latencyMs: -1 })).toThrow(RangeError);
    expect(() => medium.setLink('a', 'b', { rssiDbm: Number.POSITIVE_INFINITY })).toThrow(RangeError);
  });
});
