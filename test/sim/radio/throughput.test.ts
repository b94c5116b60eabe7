import { describe, expect, it } from 'vitest';
import { RadioMedium } from '../../../sim/radio/radio-medium.ts';
import { addBoard, makeMedium, testMac } from './radio-fixture.ts';

describe('RadioMedium throughput smoke', () => {
  it('carries 10,000 frames of 250 bytes at zero latency without timers', async () => {
    const { medium, clock } = makeMedium({ timeModel: 'instant' });
    const a = addBoard(medium, 'a', 1);
    const b = addBoard(medium, 'b', 2);
    const payload = new Uint8Array(250);
    // Half pipelined (sync=False style), half one at a time (sync=True style).
    const pipelined = await Promise.all(Array.from({ length: 5000 }, () => a.radio.send({ dst: testMac(2), payload })));
    let acked = pipelined.filter((outcome) => outcome.acked).length;
    for (let i = 0; i < 5000; i++) if ((await a.radio.send({ dst: testMac(2), payload })).acked) acked++;
    expect(acked).toBe(10_000);
    expect(b.inbox).toHaveLength(10_000);
    expect(b.inbox.every((frame) => frame.payload.length === 250)).toBe(true);
    expect(a.radio.counters).toMatchObject({ txFrames: 10_000, txAcked: 10_000, txAttempts: 10_000 });
    expect(clock.pending).toBe(0);
    medium.close();
  });

  it('runs air time and latency on the system clock (sub-millisecond waits included)', async () => {
    const medium = new RadioMedium({ timeModel: 'air-time' });
    const a = addBoard(medium, 'a', 1);
    const b = addBoard(medium, 'b', 2);
    medium.setLink('a', 'b', { latencyMs: 1.5 });
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => a.radio.send({ dst: testMac(2), payload: new Uint8Array(250).fill(i) })));
    expect(outcomes.every((outcome) => outcome.acked)).toBe(true);
    expect(b.inbox.map((frame) => frame.payload[0])).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(a.radio.counters).toMatchObject({ txFrames: 20, txAcked: 20 });
    medium.close();
  });
});
