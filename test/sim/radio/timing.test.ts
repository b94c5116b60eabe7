import { afterEach, describe, expect, it } from 'vitest';
import type { RadioSendOutcome } from '../../../sim/radio/radio-interface.ts';
import type { RadioMedium } from '../../../sim/radio/radio-medium.ts';
import { addBoard, makeMedium, settle, testMac, type FakeClock } from './radio-fixture.ts';

// 250-byte ESP-NOW frame at 1 Mbps: DIFS 50 + mean backoff 310 + preamble 192 + (250 + 43) · 8 = 2896 µs to
// arrive; + SIFS 10 + ACK (192 + 112) = 3210 µs per attempt.
const ARRIVAL_MS = 2.896;
const ATTEMPT_MS = 3.21;

/** Records when a send's promise resolved. */
function track(clock: FakeClock, sent: Promise<RadioSendOutcome>): { atMs: number | null; outcome: RadioSendOutcome | null } {
  const record: { atMs: number | null; outcome: RadioSendOutcome | null } = { atMs: null, outcome: null };
  void sent.then((outcome) => {
    record.atMs = clock.now();
    record.outcome = outcome;
  });
  return record;
}

/** Advances the fake clock to `ms` in small steps, letting promise continuations run between them. */
async function advanceTo(clock: FakeClock, ms: number): Promise<void> {
  await settle();
  while (clock.now() < ms - 1e-9) {
    clock.advance(Math.min(0.25, ms - clock.now()));
    await settle();
  }
}

describe('RadioMedium timing', () => {
  let medium: RadioMedium;
  afterEach(() => medium.close());

  it('models air time: delivery after the data frame, the outcome after the ACK', async () => {
    const made = makeMedium({ timeModel: 'air-time' });
    medium = made.medium;
    const a = addBoard(medium, 'a', 1);
    const b = addBoard(medium, 'b', 2);
    const sent = track(made.clock, a.radio.send({ dst: testMac(2), payload: new Uint8Array(250) }));
    await advanceTo(made.clock, 2.75);
    expect(b.inbox).toHaveLength(0);
    await advanceTo(made.clock, 3);
    expect(b.inbox).toHaveLength(1);
    expect(b.inbox[0]?.atMs).toBeCloseTo(ARRIVAL_MS, 6);
    expect(sent.outcome).toBeNull();
    await advanceTo(made.clock, 3.5);
    expect(sent.outcome).toEqual({ acked: true, attempts: 1 });
    expect(sent.atMs).toBeCloseTo(3.25, 6); // the step in which 3.21 fell due
    expect(medium.modelledDeliveryMs('a', 'b', 250)).toBeCloseTo(ARRIVAL_MS, 6);
  });

  it('makes frames on one channel take turns, and frames on other channels not wait', async () => {
    const made = makeMedium({ timeModel: 'air-time' });
    medium = made.medium;
    const a = addBoard(medium, 'a', 1);
    const b = addBoard(medium, 'b', 2);
    const c = addBoard(medium, 'c', 3);
    const d = addBoard(medium, 'd', 4);
    c.radio.setChannel(6);
    d.radio.setChannel(6);
    void a.radio.send({ dst: testMac(2), payload: new Uint8Array(250) });
    void a.radio.send({ dst: testMac(2), payload: new Uint8Array(250) });
    void c.radio.send({ dst: testMac(4), payload: new Uint8Array(250) });
    await advanceTo(made.clock, 10);
    expect(b.inbox.map((frame) => frame.atMs)).toEqual([expect.closeTo(ARRIVAL_MS, 6), expect.closeTo(ATTEMPT_MS + ARRIVAL_MS, 6)]);
    expect(d.inbox.map((frame) => frame.atMs)).toEqual([expect.closeTo(ARRIVAL_MS, 6)]);
  });

  it('spends all attempts on a peer that does not answer (≈ 22 ms for 250 bytes)', async () => {
    const made = makeMedium({ timeModel: 'air-time' });
    medium = made.medium;
    const a = addBoard(medium, 'a', 1);
    const sent = track(made.clock, a.radio.send({ dst: testMac(9), payload: new Uint8Array(250) }));
    await advanceTo(made.clock, 7 * ATTEMPT_MS - 0.3);
    expect(sent.outcome).toBeNull();
    await advanceTo(made.clock, 7 * ATTEMPT_MS + 0.3);
    expect(sent.outcome).toEqual({ acked: false, attempts: 7 });
  });

  it('shortens air time at a faster PHY rate', async () => {
    const made = makeMedium({ timeModel: 'air-time' });
    medium = made.medium;
    const a = addBoard(medium, 'a', 1);
    const b = addBoard(medium, 'b', 2);
    a.radio.setPhyRateMbps(54);
    void a.radio.send({ dst: testMac(2), payload: new Uint8Array(250) });
    await advanceTo(made.clock, 1);
    // DIFS 50 + backoff 310 + OFDM preamble 20 + 293 · 8 / 54 µs.
    expect(b.inbox[0]?.atMs).toBeCloseTo((380 + (293 * 8) / 54) / 1000, 6);
  });

  it('adds link latency on the way out and, for the ACK, on the way back', async () => {
    const made = makeMedium();
    medium = made.medium;
    const a = addBoard(medium, 'a', 1);
    const b = addBoard(medium, 'b', 2);
    medium.setLink('a', 'b', { latencyMs: 10 });
    const sent = track(made.clock, a.radio.send({ dst: testMac(2), payload: new Uint8Array(250) }));
    await advanceTo(made.clock, 9.75);
    expect(b.inbox).toHaveLength(0);
    await advanceTo(made.clock, 10);
    expect(b.inbox.map((frame) => frame.atMs)).toEqual([10]);
    await advanceTo(made.clock, 19.75);
    expect(sent.outcome).toBeNull();
    await advanceTo(made.clock, 20);
    expect(sent.atMs).toBe(20);
    expect(medium.modelledDeliveryMs('a', 'b', 250)).toBe(10);
  });

  it('does not wait for latency when nobody answers', async () => {
    const made = makeMedium();
    medium = made.medium;
    const a = addBoard(medium, 'a', 1);
    addBoard(medium, 'b', 2).radio.setWifiActive(false);
    medium.setLink('a', 'b', { latencyMs: 10 });
    expect(await a.radio.send({ dst: testMac(2), payload: new Uint8Array(1) })).toEqual({ acked: false, attempts: 7 });
    expect(made.clock.now()).toBe(0);
  });

  it('keeps order across frames delayed by latency', async () => {
    const made = makeMedium();
    medium = made.medium;
    const a = addBoard(medium, 'a', 1);
    const b = addBoard(medium, 'b', 2);
    medium.setLink('a', 'b', { latencyMs: 3 });
    for (let i = 0; i < 20; i++) void a.radio.send({ dst: testMac(2), payload: Uint8Array.of(i) });
    await advanceTo(made.clock, 5);
    expect(b.inbox.map((frame) => frame.payload[0])).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});
