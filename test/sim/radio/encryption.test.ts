import { afterEach, describe, expect, it } from 'vitest';
import { macHex, BROADCAST_MAC } from '../../../sim/radio/mac-address.ts';
import type { EspNowKeys } from '../../../sim/radio/espnow-keys.ts';
import type { RadioMedium } from '../../../sim/radio/radio-medium.ts';
import { addBoard, bytes, makeMedium, testMac, type TestBoard } from './radio-fixture.ts';

const PMK = bytes('MicroPyth0nRules');
const OTHER_PMK = bytes('SomethingElse!!!');
const LMK = bytes('0123456789abcdef');
const OTHER_LMK = bytes('fedcba9876543210');

function keys(pmk: Uint8Array | null, peers: Record<number, Uint8Array | null>): EspNowKeys {
  return { pmk, peers: new Map(Object.entries(peers).map(([n, lmk]) => [macHex(testMac(Number(n))), { lmk }])) };
}

describe('RadioMedium encryption', () => {
  let medium: RadioMedium;
  let a: TestBoard;
  let b: TestBoard;
  afterEach(() => medium.close());

  function setUp(): void {
    medium = makeMedium().medium;
    a = addBoard(medium, 'a', 1);
    b = addBoard(medium, 'b', 2);
  }

  async function aSendsToB(): Promise<boolean> {
    return (await a.radio.send({ dst: testMac(2), payload: bytes('secret') })).acked;
  }

  it('delivers a protected frame when both hold the same PMK and LMK', async () => {
    setUp();
    a.radio.setKeys(keys(PMK, { 2: LMK }));
    b.radio.setKeys(keys(PMK, { 1: LMK }));
    expect(await aSendsToB()).toBe(true);
    expect(b.inbox).toHaveLength(1);
    expect(b.inbox[0]?.wasEncrypted).toBe(true);
  });

  it('matches two boards that both kept the default PMK', async () => {
    setUp();
    a.radio.setKeys(keys(null, { 2: LMK }));
    b.radio.setKeys(keys(null, { 1: LMK }));
    expect(await aSendsToB()).toBe(true);
    expect(b.inbox).toHaveLength(1);
  });

  it.each([
    ['the LMKs differ', keys(PMK, { 2: LMK }), keys(PMK, { 1: OTHER_LMK })],
    ['the PMKs differ', keys(PMK, { 2: LMK }), keys(OTHER_PMK, { 1: LMK })],
    ['one side kept the default PMK', keys(null, { 2: LMK }), keys(PMK, { 1: LMK })],
    ['the receiver has not registered the sender', keys(PMK, { 2: LMK }), keys(PMK, {})],
    ['the receiver registered the sender without LMK', keys(PMK, { 2: LMK }), keys(PMK, { 1: null })],
    ['the sender sends plaintext to a peer the receiver holds encrypted', keys(PMK, { 2: null }), keys(PMK, { 1: LMK })],
  ])('drops the frame but still ACKs when %s', async (_name, senderKeys, receiverKeys) => {
    setUp();
    a.radio.setKeys(senderKeys);
    b.radio.setKeys(receiverKeys);
    expect(await aSendsToB()).toBe(true);
    expect(b.inbox).toEqual([]);
    expect(b.radio.counters.rxRejected).toBe(1);
  });

  it('receives plaintext from unregistered senders and broadcasts from encrypted peers', async () => {
    setUp();
    b.radio.setKeys(keys(PMK, { 1: LMK }));
    const c = addBoard(medium, 'c', 3);
    await c.radio.send({ dst: testMac(2), payload: bytes('plain') });
    await a.radio.send({ dst: BROADCAST_MAC, payload: bytes('bcast') });
    expect(b.inbox.map((frame) => frame.wasEncrypted)).toEqual([false, false]);
  });

  it('copies the key table: later changes to the caller’s buffers change nothing', async () => {
    setUp();
    const senderKeys = keys(PMK, { 2: LMK.slice() });
    a.radio.setKeys(senderKeys);
    b.radio.setKeys(keys(PMK, { 1: LMK }));
    (senderKeys.peers.get(macHex(testMac(2)))?.lmk as Uint8Array).fill(0);
    expect(await aSendsToB()).toBe(true);
    expect(b.inbox).toHaveLength(1);
  });

  it('protects a frame with the keys held when send() was called', async () => {
    setUp();
    a.radio.setKeys(keys(PMK, { 2: LMK }));
    b.radio.setKeys(keys(PMK, { 1: LMK }));
    const sent = a.radio.send({ dst: testMac(2), payload: bytes('secret') });
    a.radio.setKeys(keys(PMK, { 2: null }));
    await sent;
    expect(b.inbox.map((frame) => frame.wasEncrypted)).toEqual([true]);
  });

  it('rejects keys of the wrong length and peers not keyed by macHex', () => {
    setUp();
    expect(() => a.radio.setKeys({ pmk: new Uint8Array(15), peers: new Map() })).toThrow(RangeError);
    expect(() => a.radio.setKeys(keys(PMK, { 2: new Uint8Array(17) }))).toThrow(RangeError);
    expect(() => a.radio.setKeys({ pmk: null, peers: new Map([['02:00:00:00:00:02', { lmk: null }]]) })).toThrow(RangeError);
  });
});
