/**
 * The shared ring that carries the USB device controller's events to the interpreter's worker:
 * records survive the trip intact (every kind, with and without data), wrap around the buffer end,
 * are refused whole when the ring is full, and a producer can wait for space.
 */
import { describe, expect, it } from 'vitest';
import type { UsbdFirmwareEvent } from '../../../sim/usbd/board-usb-port.ts';
import { UsbdEventRing } from '../../../sim/micropython/usbd-event-ring.ts';

const EVENTS: UsbdFirmwareEvent[] = [
  { kind: 'bus-reset' },
  { kind: 'configured', configured: true, openInterfaces: [{ offset: 75, length: 66 }, { offset: 141, length: 23 }] },
  { kind: 'configured', configured: false, openInterfaces: [] },
  { kind: 'control', id: 70_000, stage: 1, setup: Uint8Array.of(0x80, 6, 0, 1, 0, 0, 18, 0) },
  { kind: 'control', id: 3, stage: 2, setup: Uint8Array.of(0x21, 0x20, 0, 0, 0, 0, 7, 0), data: Uint8Array.of(0x80, 0x25, 0, 0, 0, 0, 8) },
  { kind: 'xfer-complete', endpoint: 0x82, length: 64 },
  { kind: 'xfer-complete', endpoint: 0x02, length: 3, data: Uint8Array.of(1, 2, 3) },
  { kind: 'xfer-complete', endpoint: 0x02, length: 0, data: new Uint8Array(0) },
];

describe('UsbdEventRing', () => {
  it('delivers every kind of event intact, with its connection tag, in order', () => {
    const producer = UsbdEventRing.create(4096);
    const consumer = UsbdEventRing.attach(producer.buffer);
    EVENTS.forEach((event, i) => expect(producer.offer(i * 1000, event)).toBe(true));
    EVENTS.forEach((event, i) => expect(consumer.take()).toEqual({ connection: i * 1000, event }));
    expect(consumer.take()).toBeNull();
    expect(consumer.used()).toBe(0);
  });

  it('wraps records around the end of the buffer', () => {
    const ring = UsbdEventRing.create(50);
    for (let i = 0; i < 40; i++) {
      const event: UsbdFirmwareEvent = { kind: 'xfer-complete', endpoint: 0x02, length: i, data: Uint8Array.from({ length: i % 13 }, (_, j) => i + j) };
      expect(ring.offer(i, event)).toBe(true);
      expect(ring.take()).toEqual({ connection: i, event });
    }
  });

  it('refuses a record that does not fit the free space, and stores it once there is room', () => {
    const ring = UsbdEventRing.create(40);
    const event: UsbdFirmwareEvent = { kind: 'xfer-complete', endpoint: 0x02, length: 8, data: new Uint8Array(8) };
    expect(ring.offer(1, event)).toBe(true);
    expect(ring.offer(2, event)).toBe(false);
    expect(ring.take()?.connection).toBe(1);
    expect(ring.take()).toBeNull();
    expect(ring.offer(2, event)).toBe(true);
    expect(ring.take()?.connection).toBe(2);
  });

  it('throws for an event larger than the whole ring', () => {
    const ring = UsbdEventRing.create(64);
    const huge: UsbdFirmwareEvent = { kind: 'xfer-complete', endpoint: 0x02, length: 100, data: new Uint8Array(100) };
    expect(ring.canHold(huge)).toBe(false);
    expect(() => ring.offer(0, huge)).toThrow(RangeError);
  });

  it('lets a producer wait until the consumer has taken something', async () => {
    const ring = UsbdEventRing.create(40);
    const event: UsbdFirmwareEvent = { kind: 'bus-reset' };
    ring.offer(0, event);
    const seen = ring.readMark();
    let woke = false;
    const waiting = ring.waitForSpace(seen).then(() => {
      woke = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(woke).toBe(false);
    ring.take();
    await waiting;
    expect(woke).toBe(true);
  });
});
