import { describe, expect, it } from 'vitest';
import { Telnet, TelnetDecoder, TelnetOption } from '../../runner/link/telnet-codec.ts';
import { TelnetOptionNegotiator } from '../../runner/link/telnet-option-negotiator.ts';

const { WILL, WONT, DO, DONT } = Telnet;
const ALL = new Set<number>([TelnetOption.BINARY, TelnetOption.SGA, TelnetOption.COM_PORT]);

/** Two negotiators wired back to back through decoders; returns them and the number of frames exchanged. */
function wire(): { a: TelnetOptionNegotiator; b: TelnetOptionNegotiator; frames: () => number; pump: () => void } {
  const queues: { toA: Uint8Array[]; toB: Uint8Array[] } = { toA: [], toB: [] };
  let count = 0;
  const a = new TelnetOptionNegotiator({ local: ALL, remote: ALL }, (bytes) => {
    count++;
    queues.toB.push(bytes);
  });
  const b = new TelnetOptionNegotiator({ local: ALL, remote: new Set([TelnetOption.BINARY]) }, (bytes) => {
    count++;
    queues.toA.push(bytes);
  });
  const decA = new TelnetDecoder();
  const decB = new TelnetDecoder();
  const pump = (): void => {
    for (let rounds = 0; rounds < 100 && (queues.toA.length > 0 || queues.toB.length > 0); rounds++) {
      for (const bytes of queues.toB.splice(0)) for (const e of decB.push(bytes)) if (e.type === 'negotiation') b.handle(e.verb, e.option);
      for (const bytes of queues.toA.splice(0)) for (const e of decA.push(bytes)) if (e.type === 'negotiation') a.handle(e.verb, e.option);
    }
    expect(queues.toA.length + queues.toB.length).toBe(0);
  };
  return { a, b, frames: () => count, pump };
}

describe('TelnetOptionNegotiator', () => {
  it('settles when both ends ask for the same options at once, without loops', () => {
    const { a, b, frames, pump } = wire();
    for (const o of [TelnetOption.BINARY, TelnetOption.COM_PORT]) {
      a.offer(o);
      a.ask(o);
      b.offer(o);
      b.ask(o);
    }
    pump();
    expect(a.isLocalEnabled(TelnetOption.BINARY) && a.isRemoteEnabled(TelnetOption.BINARY)).toBe(true);
    expect(b.isLocalEnabled(TelnetOption.COM_PORT)).toBe(true);
    // b does not let a perform COM-PORT: a's offer was refused and a accepted that quietly.
    expect(a.isLocalEnabled(TelnetOption.COM_PORT)).toBe(false);
    expect(a.wasRefused(TelnetOption.COM_PORT, 'local')).toBe(true);
    expect(frames()).toBeLessThanOrEqual(10);
  });

  it('answers each request once, refuses unknown options, and ignores repeats of a settled state', () => {
    const sent: number[][] = [];
    const n = new TelnetOptionNegotiator({ local: ALL, remote: ALL }, (bytes) => sent.push([...bytes]));
    n.handle(DO, TelnetOption.SGA);
    n.handle(DO, TelnetOption.SGA);
    n.handle(WILL, 24);
    n.handle(DO, 24);
    n.handle(DONT, TelnetOption.SGA);
    n.handle(DONT, TelnetOption.SGA);
    n.handle(WONT, TelnetOption.BINARY);
    expect(sent).toEqual([
      [0xff, WILL, TelnetOption.SGA],
      [0xff, DONT, 24],
      [0xff, WONT, 24],
      [0xff, WONT, TelnetOption.SGA],
    ]);
    expect(n.isLocalEnabled(TelnetOption.SGA)).toBe(false);
  });
});
