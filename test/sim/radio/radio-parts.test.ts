import { describe, expect, it } from 'vitest';
import { attemptTiming, espNowFrameBytes } from '../../../sim/radio/air-time.ts';
import { isGroupAddress, macHex, parseMac } from '../../../sim/radio/mac-address.ts';
import { rssiFromPlacement } from '../../../sim/radio/path-loss.ts';
import { SeededRandom } from '../../../sim/radio/seeded-random.ts';
import { runUnicastExchange, type UnicastExchangeInput } from '../../../sim/radio/unicast-exchange.ts';

/** A random source that returns scripted values and counts the draws. */
class ScriptedRandom extends SeededRandom {
  draws = 0;
  constructor(private readonly values: number[]) {
    super(0);
  }
  override next(): number {
    this.draws++;
    const value = this.values.shift();
    if (value === undefined) throw new Error('out of scripted values');
    return value;
  }
}

const clean: UnicastExchangeInput = { maxAttempts: 3, dataCanArrive: true, dataLossProbability: 0.5, ackCanArrive: true, ackLossProbability: 0.5 };

describe('radio parts', () => {
  it('formats and parses MACs and spots group addresses', () => {
    const mac = parseMac('24:6F:28:a1:b2:c3');
    expect(macHex(mac)).toBe('246f28a1b2c3');
    expect(macHex(parseMac('24-6f-28-a1-b2-c3'))).toBe('246f28a1b2c3');
    expect(() => parseMac('24:6f:28:a1:b2')).toThrow(RangeError);
    expect(() => macHex(new Uint8Array(7))).toThrow(RangeError);
    expect(isGroupAddress(mac)).toBe(false);
    expect(isGroupAddress(parseMac('ff:ff:ff:ff:ff:ff'))).toBe(true);
    expect(isGroupAddress(parseMac('01:00:5e:00:00:01'))).toBe(true);
  });

  it('repeats its sequence for a seed and draws nothing for certain outcomes', () => {
    const first = new SeededRandom(9);
    const second = new SeededRandom(9);
    const values = Array.from({ length: 5 }, () => first.next());
    expect(Array.from({ length: 5 }, () => second.next())).toEqual(values);
    expect(values.every((value) => value >= 0 && value < 1)).toBe(true);
    const scripted = new ScriptedRandom([]);
    expect(scripted.chance(0)).toBe(false);
    expect(scripted.chance(1)).toBe(true);
    expect(scripted.draws).toBe(0);
  });

  it('sizes and times ESP-NOW frames', () => {
    expect(espNowFrameBytes(250, false)).toBe(293);
    expect(espNowFrameBytes(250, true)).toBe(309);
    expect(attemptTiming(250, false, 1, true)).toEqual({ dataArrivalUs: 2896, attemptUs: 3210 });
    expect(attemptTiming(250, false, 1, false)).toEqual({ dataArrivalUs: 2896, attemptUs: 2896 });
    expect(attemptTiming(250, true, 1, true).dataArrivalUs).toBe(2896 + 128);
  });

  it('computes log-distance RSSI', () => {
    expect(rssiFromPlacement({ xM: 0, yM: 0 }, { xM: 10, yM: 0 })).toBeCloseTo(-50, 9);
    expect(rssiFromPlacement({ xM: 0, yM: 0 }, { xM: 10, yM: 0 }, { txPowerDbm: 10, referenceLossDb: 40, exponent: 2 })).toBeCloseTo(-50, 9);
  });

  it('retries after a lost data frame and after a lost ACK, delivering once', () => {
    // attempt 1: data lost; attempt 2: data ok, ACK lost; attempt 3: data ok, ACK ok.
    const random = new ScriptedRandom([0.1, 0.9, 0.1, 0.9, 0.9]);
    expect(runUnicastExchange(clean, random)).toEqual({ attempts: 3, firstArrivalAttempt: 2, acked: true });
    expect(random.draws).toBe(5);
  });

  it('reports a frame that arrived but whose ACKs were all lost as failed', () => {
    const random = new ScriptedRandom([0.9, 0.1, 0.9, 0.1, 0.9, 0.1]);
    expect(runUnicastExchange(clean, random)).toEqual({ attempts: 3, firstArrivalAttempt: 1, acked: false });
  });

  it('spends every attempt without drawing when nobody can answer', () => {
    const random = new ScriptedRandom([]);
    expect(runUnicastExchange({ ...clean, dataCanArrive: false }, random)).toEqual({ attempts: 3, firstArrivalAttempt: null, acked: false });
    expect(random.draws).toBe(0);
  });
});
