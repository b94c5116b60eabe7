import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SimUart, type ConsoleLinkProfile } from '../../../sim/board/sim-uart.ts';

function makeUart(options: { speedFactor?: number; profile?: ConsoleLinkProfile } = {}) {
  const received: string[] = [];
  const lineChanges: string[] = [];
  const uart = new SimUart({
    boardId: 'b1',
    speedFactor: options.speedFactor ?? 1,
    ...(options.profile ? { profile: options.profile } : {}),
    onReceive: (d) => received.push(new TextDecoder().decode(d)),
    onModemLines: (l, p) => lineChanges.push(`${+p.dtr}${+p.rts}->${+l.dtr}${+l.rts}`),
  });
  let delivered = 0;
  const chunks: Uint8Array[] = [];
  uart.onTransmit((c) => {
    delivered += c.length;
    chunks.push(c);
  });
  return { uart, received, lineChanges, chunks, delivered: () => delivered };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('SimUart pacing', () => {
  it('never delivers faster than baud/10 bytes per second at 115200 baud', async () => {
    const { uart, delivered, chunks } = makeUart();
    uart.setEnabled(true);
    const data = new Uint8Array(11_520).map((_, i) => i & 0xff);
    uart.transmit(data);
    expect(delivered()).toBe(0);
    for (let t = 50; t <= 950; t += 50) {
      await vi.advanceTimersByTimeAsync(50);
      // 11.52 bytes per ms; allow one byte of rounding.
      expect(delivered()).toBeLessThanOrEqual(Math.floor(11.52 * t) + 1);
      expect(delivered()).toBeGreaterThanOrEqual(Math.floor(11.52 * (t - 10)));
    }
    await vi.advanceTimersByTimeAsync(60);
    expect(delivered()).toBe(11_520);
    // Order is preserved across batches.
    const joined = Buffer.concat(chunks);
    expect(joined.equals(Buffer.from(data))).toBe(true);
    // Idle: no timers left behind.
    expect(vi.getTimerCount()).toBe(0);
    await expect(uart.whenDrained()).resolves.toBeUndefined();
  });

  it('follows baud-rate changes and the speed factor', async () => {
    const fast = makeUart();
    fast.uart.setEnabled(true);
    fast.uart.setBaudRate(921_600);
    fast.uart.transmit(new Uint8Array(9216));
    await vi.advanceTimersByTimeAsync(50);
    expect(fast.delivered()).toBeGreaterThan(4000);
    expect(fast.delivered()).toBeLessThanOrEqual(4609);

    const doubled = makeUart({ speedFactor: 2 });
    doubled.uart.setEnabled(true);
    doubled.uart.transmit(new Uint8Array(2304));
    await vi.advanceTimersByTimeAsync(50);
    expect(doubled.delivered()).toBeLessThanOrEqual(1153);
    await vi.advanceTimersByTimeAsync(60);
    expect(doubled.delivered()).toBe(2304);
  });

  it('delivers on the next microtask when unpaced (speed factor Infinity), in order', async () => {
    const { uart, chunks } = makeUart({ speedFactor: Infinity });
    uart.setEnabled(true);
    uart.transmit(new Uint8Array([1, 2]));
    uart.transmit(new Uint8Array([3]));
    expect(chunks).toHaveLength(0);
    await Promise.resolve();
    expect(chunks.map((c) => [...c])).toEqual([[1, 2, 3]]);
    expect(() => makeUart({ speedFactor: 0 })).toThrow(RangeError);
  });

  it('paces host input at the wire rate too (an upload takes its wire time)', async () => {
    const { uart, received } = makeUart();
    uart.setEnabled(true);
    uart.receiveFromHost(new Uint8Array(11520)); // one second of wire at 115200 baud
    await vi.advanceTimersByTimeAsync(500);
    const halfway = received.join('').length;
    expect(halfway).toBeGreaterThan(11520 * 0.45);
    expect(halfway).toBeLessThan(11520 * 0.55);
    await vi.advanceTimersByTimeAsync(600);
    expect(received.join('').length).toBe(11520);
  });

  it('drops input and output while disabled (chip in reset) and purges on request', async () => {
    const { uart, received, delivered } = makeUart();
    uart.receiveFromHost(new Uint8Array([0x41]));
    uart.transmit(new Uint8Array(10));
    expect(received).toEqual([]);
    uart.setEnabled(true);
    uart.receiveFromHost(new TextEncoder().encode('hi'));
    expect(received).toEqual([]); // still on the wire
    await vi.advanceTimersByTimeAsync(1);
    expect(received).toEqual(['hi']);
    uart.transmit(new Uint8Array(1000));
    await vi.advanceTimersByTimeAsync(20);
    const before = delivered();
    expect(before).toBeGreaterThan(0);
    uart.purgeTransmit();
    await vi.advanceTimersByTimeAsync(200);
    expect(delivered()).toBe(before);
    uart.transmit(new Uint8Array(1000));
    uart.setEnabled(false);
    await vi.advanceTimersByTimeAsync(200);
    expect(delivered()).toBe(before);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ignores redundant modem-line writes', () => {
    const { uart, lineChanges } = makeUart();
    uart.setModemLines({ dtr: false, rts: false });
    uart.setModemLines({ dtr: false, rts: true });
    uart.setModemLines({ dtr: false, rts: true });
    uart.setModemLines({ dtr: true, rts: true });
    expect(lineChanges).toEqual(['00->01', '01->11']);
  });

  it('keeps the latest output in an overwrite FIFO while detached (TinyUSB CDC) and sends it on attach', async () => {
    const profile: ConsoleLinkProfile = { whenDetached: 'overwrite-fifo', fifoBytes: 8, wireBytesPerSecond: () => 1e6 };
    const { uart, chunks } = makeUart({ profile, speedFactor: Infinity });
    uart.setEnabled(true);
    uart.transmit(new TextEncoder().encode('0123456789abc'));
    await Promise.resolve();
    expect(chunks).toHaveLength(0);
    uart.setHostAttached(true);
    await Promise.resolve();
    expect(new TextDecoder().decode(chunks[0])).toBe('56789abc');
  });
});
