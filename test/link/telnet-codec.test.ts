import { describe, expect, it } from 'vitest';
import {
  ComPortCommand,
  Telnet,
  TelnetDecoder,
  TelnetOption,
  encodeComPortCommand,
  encodeNegotiation,
  encodeSubnegotiation,
  escapeTelnetData,
  readU32BigEndian,
  u32BigEndian,
  type TelnetEvent,
} from '../../runner/link/telnet-codec.ts';

const { IAC, SB, SE, WILL, DO, DONT, WONT, NOP } = Telnet;

/** Deterministic pseudo-random bytes (xorshift32), heavy in 0xFF and Telnet command bytes. */
function randomBytes(length: number, seed: number): Uint8Array {
  let x = seed >>> 0 || 1;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const r = x & 0xff;
    out[i] = r < 64 ? 0xff : r < 96 ? 0xf0 + (r & 0x0f) : r;
  }
  return out;
}

function dataOf(events: TelnetEvent[]): number[] {
  return events.flatMap((e) => (e.type === 'data' ? [...e.data] : []));
}

function nonData(events: TelnetEvent[]): TelnetEvent[] {
  return events.filter((e) => e.type !== 'data');
}

function decodeAll(bytes: Uint8Array, splits: number[] = []): TelnetEvent[] {
  const decoder = new TelnetDecoder();
  const events: TelnetEvent[] = [];
  let start = 0;
  for (const at of [...splits, bytes.length]) {
    events.push(...decoder.push(bytes.subarray(start, at)));
    start = at;
  }
  return events;
}

describe('escapeTelnetData', () => {
  it('doubles every 0xFF and leaves other bytes alone', () => {
    expect([...escapeTelnetData(Uint8Array.of(1, 0xff, 2, 0xff, 0xff))]).toEqual([1, 0xff, 0xff, 2, 0xff, 0xff, 0xff, 0xff]);
    expect([...escapeTelnetData(Uint8Array.of(0xfe, 0xf0, 0))]).toEqual([0xfe, 0xf0, 0]);
  });

  it('round-trips data full of 0xFF through the decoder', () => {
    const data = new Uint8Array(4096).fill(0xff);
    for (let i = 0; i < data.length; i += 7) data[i] = i & 0xff;
    const events = decodeAll(escapeTelnetData(data));
    expect(Uint8Array.from(dataOf(events))).toEqual(data);
    expect(nonData(events)).toEqual([]);
  });

  it('round-trips random data', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const data = randomBytes(500, seed);
      expect(Uint8Array.from(dataOf(decodeAll(escapeTelnetData(data))))).toEqual(data);
    }
  });
});

describe('encoders', () => {
  it('builds negotiation frames', () => {
    expect([...encodeNegotiation(WILL, TelnetOption.COM_PORT)]).toEqual([IAC, WILL, 44]);
    expect([...encodeNegotiation(DONT, 7)]).toEqual([IAC, DONT, 7]);
  });

  it('builds COM-PORT sub-negotiations with the value escaped', () => {
    // SET_BAUDRATE 0xFFFFFFFF: every value byte doubled (RFC 2217 "values escaped", pitfall 15).
    expect([...encodeComPortCommand(ComPortCommand.SET_BAUDRATE, u32BigEndian(0xffffffff))]).toEqual([
      IAC, SB, 44, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, IAC, SE,
    ]);
    expect([...encodeComPortCommand(ComPortCommand.SET_BAUDRATE, u32BigEndian(115200))]).toEqual([IAC, SB, 44, 1, 0, 1, 0xc2, 0, IAC, SE]);
    expect([...encodeSubnegotiation(24, Uint8Array.of())]).toEqual([IAC, SB, 24, IAC, SE]);
  });

  it('decodes its own sub-negotiations back to the same payload', () => {
    const frame = encodeComPortCommand(101, u32BigEndian(0x00ff_ff10));
    expect(decodeAll(frame)).toEqual([{ type: 'subnegotiation', option: 44, payload: Uint8Array.of(101, 0x00, 0xff, 0xff, 0x10) }]);
  });

  it('reads and writes big-endian u32', () => {
    expect([...u32BigEndian(921600)]).toEqual([0x00, 0x0e, 0x10, 0x00]);
    expect(readU32BigEndian(Uint8Array.of(0, 0x0e, 0x10, 0, 99))).toBe(921600);
    expect(readU32BigEndian(Uint8Array.of(1, 2, 3))).toBeUndefined();
  });
});

describe('TelnetDecoder', () => {
  const stream = Uint8Array.from([
    0x41, IAC, IAC, 0x42,
    IAC, WILL, 44,
    IAC, SB, 44, 101, 0, 0x0e, IAC, IAC, 0x00, IAC, SE,
    0x43, IAC, NOP, 0xff, 0xff,
    IAC, DO, 0, IAC, WONT, 3,
    0x44,
  ]);
  const expected: TelnetEvent[] = [
    { type: 'data', data: Uint8Array.of(0x41, 0xff, 0x42) },
    { type: 'negotiation', verb: WILL, option: 44 },
    { type: 'subnegotiation', option: 44, payload: Uint8Array.of(101, 0, 0x0e, 0xff, 0x00) },
    { type: 'data', data: Uint8Array.of(0x43) },
    { type: 'command', command: NOP },
    { type: 'data', data: Uint8Array.of(0xff) },
    { type: 'negotiation', verb: DO, option: 0 },
    { type: 'negotiation', verb: WONT, option: 3 },
    { type: 'data', data: Uint8Array.of(0x44) },
  ];

  it('decodes a mixed stream in one push', () => {
    expect(decodeAll(stream)).toEqual(expected);
  });

  it('gives the same result when split at every byte position', () => {
    for (let at = 0; at <= stream.length; at++) {
      const events = decodeAll(stream, [at]);
      expect(nonData(events), `split at ${at}`).toEqual(nonData(expected));
      expect(dataOf(events), `split at ${at}`).toEqual(dataOf(expected));
    }
  });

  it('gives the same result when fed one byte at a time', () => {
    const splits = Array.from({ length: stream.length }, (_, i) => i);
    const events = decodeAll(stream, splits);
    expect(nonData(events)).toEqual(nonData(expected));
    expect(dataOf(events)).toEqual(dataOf(expected));
  });

  it('skips IAC followed by a non-command byte and keeps going', () => {
    const events = decodeAll(Uint8Array.of(0x31, IAC, 0x41, 0x32));
    expect(dataOf(events)).toEqual([0x31, 0x32]);
    expect(events.some((e) => e.type === 'protocol-error')).toBe(true);
  });

  it('abandons a sub-negotiation interrupted by another command and still sees that command', () => {
    const events = decodeAll(Uint8Array.of(IAC, SB, 44, 1, 2, IAC, WILL, 44, 0x55));
    expect(events.filter((e) => e.type === 'negotiation')).toEqual([{ type: 'negotiation', verb: WILL, option: 44 }]);
    expect(events.some((e) => e.type === 'subnegotiation')).toBe(false);
    expect(dataOf(events)).toEqual([0x55]);
  });

  it('bounds an unterminated sub-negotiation and recovers after IAC SE', () => {
    const decoder = new TelnetDecoder({ maxSubnegotiationBytes: 16 });
    const events: TelnetEvent[] = [];
    events.push(...decoder.push(Uint8Array.of(IAC, SB, 44)));
    for (let i = 0; i < 100; i++) events.push(...decoder.push(new Uint8Array(1000).fill(0x11)));
    expect(decoder.isMidCommand).toBe(true);
    events.push(...decoder.push(Uint8Array.of(IAC, SE, 0x61)));
    expect(events.filter((e) => e.type === 'subnegotiation')).toEqual([]);
    expect(events.filter((e) => e.type === 'protocol-error')).toHaveLength(1);
    expect(dataOf(events)).toEqual([0x61]);
    expect(decoder.isMidCommand).toBe(false);
  });

  it('never throws on random garbage and always returns to data mode', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const decoder = new TelnetDecoder({ maxSubnegotiationBytes: 64 });
      const garbage = randomBytes(2000, seed * 7919);
      const step = 1 + (seed % 13);
      expect(() => {
        for (let i = 0; i < garbage.length; i += step) decoder.push(garbage.subarray(i, i + step));
      }).not.toThrow();
      // Whatever state the garbage left, a terminator followed by an escaped payload decodes cleanly.
      decoder.push(Uint8Array.of(IAC, SE));
      decoder.push(Uint8Array.of(0x00)); // finishes a dangling "IAC WILL" if the garbage ended in one
      const tail = decoder.push(Uint8Array.of(IAC, NOP, 0x10, IAC, IAC, 0x20));
      expect(dataOf(tail).slice(-3), `seed ${seed}`).toEqual([0x10, 0xff, 0x20]);
    }
  });
});
