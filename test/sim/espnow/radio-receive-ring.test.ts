/**
 * ESP-NOW's receive buffer: packets in order, whole-packet drops when full (the default rxbuf holds
 * two full-size packets), wrap-around, and both ends working on one shared buffer.
 */
import { describe, expect, it } from 'vitest';
import { PACKET_OVERHEAD_BYTES, RadioReceiveRing } from '../../../sim/micropython/radio-receive-ring.ts';

const MAC_A = Uint8Array.of(0x24, 0, 0, 0, 0, 1);
const MAC_B = Uint8Array.of(0x24, 0, 0, 0, 0, 2);
const payload = (length: number, fill: number): Uint8Array => new Uint8Array(length).fill(fill);

describe('RadioReceiveRing', () => {
  it('returns packets in order with sender, payload, RSSI and arrival time', () => {
    const producer = RadioReceiveRing.create(528);
    const consumer = RadioReceiveRing.attach(producer.buffer);
    expect(producer.offer(MAC_A, payload(3, 7), -40, 1000)).toBe(true);
    expect(producer.offer(MAC_B, payload(1, 9), -127, 0xffffffff)).toBe(true);
    expect(consumer.used()).toBe(2 * PACKET_OVERHEAD_BYTES + 4);
    expect(consumer.take()).toEqual({ src: MAC_A, payload: payload(3, 7), rssi: -40, arrivalMs: 1000 });
    expect(consumer.take()).toEqual({ src: MAC_B, payload: payload(1, 9), rssi: -127, arrivalMs: 0xffffffff });
    expect(consumer.take()).toBeNull();
    expect(consumer.used()).toBe(0);
  });

  it('holds exactly two full-size packets in the default 528 bytes and drops the third whole', () => {
    const ring = RadioReceiveRing.create(2 * (PACKET_OVERHEAD_BYTES + 250));
    expect(ring.offer(MAC_A, payload(250, 1), -50, 1)).toBe(true);
    expect(ring.offer(MAC_A, payload(250, 2), -50, 2)).toBe(true);
    expect(ring.offer(MAC_A, payload(1, 3), -50, 3)).toBe(false);
    expect(ring.take()?.payload).toEqual(payload(250, 1));
    expect(ring.offer(MAC_A, payload(250, 4), -50, 4)).toBe(true);
    expect(ring.take()?.payload).toEqual(payload(250, 2));
    expect(ring.take()?.payload).toEqual(payload(250, 4));
  });

  it('wraps packets around the end of the buffer intact', () => {
    const ring = RadioReceiveRing.create(50);
    for (let round = 0; round < 20; round++) {
      const data = Uint8Array.from({ length: 5 + (round % 7) }, (_, i) => round * 10 + i);
      expect(ring.offer(MAC_B, data, -1 - round, round)).toBe(true);
      expect(ring.take()).toEqual({ src: MAC_B, payload: data, rssi: -1 - round, arrivalMs: round });
    }
  });

  it('drops everything when rxbuf is too small for any packet', () => {
    const ring = RadioReceiveRing.create(0);
    expect(ring.offer(MAC_A, payload(1, 1), -1, 0)).toBe(false);
    expect(ring.take()).toBeNull();
  });
});
