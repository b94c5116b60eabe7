/** The shared receive ring (sim/micropython/input-ring.ts), exercised from one thread. */
import { describe, expect, it } from 'vitest';
import { InputRing } from '../../../sim/micropython/input-ring.ts';

describe('input ring', () => {
  it('passes bytes through in order across the wrap-around, up to its capacity', () => {
    const writer = InputRing.create(16);
    const reader = InputRing.attach(writer.buffer);
    const out: number[] = [];
    for (let round = 0; round < 5; round++) {
      const data = Uint8Array.from({ length: 11 }, (_, i) => round * 11 + i);
      expect(writer.write(data)).toBe(11);
      for (let b = reader.readByte(); b >= 0; b = reader.readByte()) out.push(b);
    }
    expect(out).toEqual(Array.from({ length: 55 }, (_, i) => i));
    expect(writer.write(new Uint8Array(20))).toBe(16);
    expect(writer.free()).toBe(0);
    const target = new Uint8Array(32);
    expect(reader.read(target, 0, 32)).toBe(16);
    expect(reader.available()).toBe(0);
  });

  it('counts interrupts, rings the doorbell and can discard unread input', () => {
    const writer = InputRing.create(64);
    const reader = InputRing.attach(writer.buffer);
    writer.write(Uint8Array.of(1, 2, 3));
    writer.ringDoorbell();
    const bell = reader.doorbell();
    writer.recordInterrupt(true);
    expect(reader.interrupts()).toBe(1);
    expect(reader.doorbell()).not.toBe(bell);
    expect(reader.available()).toBe(0);
    writer.write(Uint8Array.of(9));
    expect(reader.readByte()).toBe(9);
    writer.write(Uint8Array.of(4));
    writer.recordInterrupt(false);
    expect(reader.readByte()).toBe(4);
  });

  it('rejects a capacity that is not a power of two', () => {
    expect(() => InputRing.create(100)).toThrow(RangeError);
  });

  it('wakes a writer waiting for space once the reader consumes', async () => {
    const writer = InputRing.create(4);
    const reader = InputRing.attach(writer.buffer);
    writer.write(Uint8Array.of(1, 2, 3, 4));
    const waiting = writer.waitForSpace();
    reader.readByte();
    await waiting;
    expect(writer.free()).toBe(1);
  });
});

describe('interrupts raised just before a wait starts', () => {
  it('still end the next wait (the VM only notices a pending KeyboardInterrupt at its next branch)', async () => {
    const { sleepInterruptibly, waitForEvent, WaitOutcome } = await import('../../../sim/micropython/board-runtime.ts');
    const host = InputRing.create(1024);
    const worker = InputRing.attach(host.buffer);
    host.recordInterrupt(false); // Ctrl-C arrives between print("waiting") and the wait
    expect(sleepInterruptibly(worker, 5000)).toBe(true); // true = ended by the interrupt, not the timeout
    // Taken once: the next wait is not cut short by the same interrupt.
    expect(worker.takeInterrupt()).toBe(false);
    expect(sleepInterruptibly(worker, 20)).toBe(false);
    host.recordInterrupt(false);
    expect(waitForEvent(worker, 5000)).toBe(WaitOutcome.interrupted);
    expect(waitForEvent(worker, 10)).toBe(WaitOutcome.timeout);
  });
});
