import { afterEach, describe, expect, it } from 'vitest';
import type { RadioMedium, RadioMediumOptions } from '../../../sim/radio/radio-medium.ts';
import { addBoard, bytes, makeMedium, testMac } from './radio-fixture.ts';

/** Sends `count` unicast frames a → b over a link with `lossPercent`; returns the ACK pattern and deliveries. */
async function run(options: RadioMediumOptions, lossPercent: number, count: number): Promise<{ medium: RadioMedium; acks: boolean[]; delivered: number }> {
  const { medium } = makeMedium(options);
  const a = addBoard(medium, 'a', 1);
  const b = addBoard(medium, 'b', 2);
  medium.setLink('a', 'b', { lossPercent });
  const outcomes = await Promise.all(Array.from({ length: count }, () => a.radio.send({ dst: testMac(2), payload: bytes('x') })));
  return { medium, acks: outcomes.map((outcome) => outcome.acked), delivered: b.inbox.length };
}

describe('RadioMedium loss', () => {
  const media: RadioMedium[] = [];
  afterEach(() => {
    for (const medium of media.splice(0)) medium.close();
  });
  async function tracked(...args: Parameters<typeof run>): ReturnType<typeof run> {
    const result = await run(...args);
    media.push(result.medium);
    return result;
  }

  it('without retries, loses data and ACKs independently at the link’s rate', async () => {
    const { acks, delivered } = await tracked({ seed: 7, unicastRetries: 0 }, 50, 4000);
    const acked = acks.filter(Boolean).length;
    // P(delivered) = 0.5, P(acked) = 0.5 · 0.5; bounds are ±5σ.
    expect(delivered).toBeGreaterThan(2000 - 160);
    expect(delivered).toBeLessThan(2000 + 160);
    expect(acked).toBeGreaterThan(1000 - 140);
    expect(acked).toBeLessThan(1000 + 140);
  });

  it('with 6 retries, fails only when all 7 attempts lose data or ACK', async () => {
    const { acks, delivered } = await tracked({ seed: 3 }, 30, 4000);
    const failed = acks.filter((acked) => !acked).length;
    // Per attempt P(success) = 0.7 · 0.7 = 0.49, so P(failure) = 0.51⁷ ≈ 0.009 → ≈ 36 of 4000.
    expect(failed).toBeGreaterThan(10);
    expect(failed).toBeLessThan(70);
    // Data gets through unless all 7 data frames are lost (0.3⁷ ≈ 0.0002); duplicates are not delivered twice.
    expect(delivered).toBeGreaterThanOrEqual(3990);
    expect(delivered).toBeLessThanOrEqual(4000);
  });

  it('loses the same frames for the same seed and different ones for another seed', async () => {
    const first = await tracked({ seed: 42, unicastRetries: 0 }, 50, 200);
    const again = await tracked({ seed: 42, unicastRetries: 0 }, 50, 200);
    const other = await tracked({ seed: 43, unicastRetries: 0 }, 50, 200);
    expect(again.acks).toEqual(first.acks);
    expect(other.acks).not.toEqual(first.acks);
  });

  it('loses everything at 100 % and nothing at 0 %', async () => {
    const lost = await tracked({}, 100, 50);
    expect(lost.acks.some(Boolean)).toBe(false);
    expect(lost.delivered).toBe(0);
    const clean = await tracked({}, 0, 50);
    expect(clean.acks.every(Boolean)).toBe(true);
    expect(clean.delivered).toBe(50);
  });

  it('gives each broadcast receiver its own loss draw', async () => {
    const { medium } = makeMedium({ seed: 5 });
    media.push(medium);
    const a = addBoard(medium, 'a', 1);
    const b = addBoard(medium, 'b', 2);
    const c = addBoard(medium, 'c', 3);
    medium.setLink('a', 'b', { lossPercent: 50 });
    medium.setLink('a', 'c', { lossPercent: 50 });
    await Promise.all(Array.from({ length: 400 }, () => a.radio.send({ dst: new Uint8Array(6).fill(0xff), payload: bytes('x') })));
    expect(b.inbox.length).toBeGreaterThan(120);
    expect(b.inbox.length).toBeLessThan(280);
    expect(c.inbox.length).toBeGreaterThan(120);
    expect(c.inbox.length).toBeLessThan(280);
    expect(b.inbox.length).not.toBe(c.inbox.length);
  });
});
