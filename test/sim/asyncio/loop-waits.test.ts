/**
 * The worker-side primitives under the board's asyncio loop, without a VM: the doorbell wait (no
 * lost wake-ups, Ctrl-C, timeouts) and the ESP-NOW stream-poll flags.
 */
import { describe, expect, it } from 'vitest';
import { espNowPollFlags, PollFlag, waitForDoorbell, waitForEvent, WaitOutcome } from '../../../sim/micropython/board-runtime.ts';
import { InputRing } from '../../../sim/micropython/input-ring.ts';
import { EspNowEndpoint } from '../../../sim/micropython/radio-espnow-endpoint.ts';
import { RadioMailbox } from '../../../sim/micropython/radio-mailbox.ts';
import type { RadioWorkerMessage } from '../../../sim/micropython/radio-messages.ts';
import { RadioReceiveRing } from '../../../sim/micropython/radio-receive-ring.ts';

function rings(): { host: InputRing; worker: InputRing } {
  const host = InputRing.create(1024);
  return { host, worker: InputRing.attach(host.buffer) };
}

describe('waitForDoorbell', () => {
  it('returns at once when the doorbell rang after the caller read it (the wake-up is not lost)', () => {
    const { host, worker } = rings();
    const seen = worker.doorbell();
    host.ringDoorbell(); // e.g. a radio frame arriving while the loop polled its objects
    expect(waitForDoorbell(worker, seen, 60_000)).toBe(WaitOutcome.event);
  });

  it('times out when nothing rings, also with serial input left unread from before', () => {
    const { host, worker } = rings();
    host.write(Uint8Array.of(0x61));
    host.ringDoorbell();
    const seen = worker.doorbell();
    expect(waitForDoorbell(worker, seen, 10)).toBe(WaitOutcome.timeout);
    // waitForEvent, used by select, counts unread input as an event.
    expect(waitForEvent(worker, 10)).toBe(WaitOutcome.event);
  });

  it('reports a keyboard interrupt raised before or during the wait, once', () => {
    const { host, worker } = rings();
    host.recordInterrupt(false);
    expect(waitForDoorbell(worker, worker.doorbell(), 60_000)).toBe(WaitOutcome.interrupted);
    expect(waitForDoorbell(worker, worker.doorbell(), 5)).toBe(WaitOutcome.timeout);
  });

  it('ends as an event when wakeEarly scheduled callbacks', () => {
    const { worker } = rings();
    let calls = 0;
    expect(waitForDoorbell(worker, worker.doorbell(), 60_000, () => ++calls === 1)).toBe(WaitOutcome.event);
    expect(calls).toBe(1);
  });
});

describe('espNowPollFlags', () => {
  it('reports nothing while inactive, then readable with a buffered packet and writable with no answer outstanding', () => {
    const mailbox = RadioMailbox.create();
    const posted: RadioWorkerMessage[] = [];
    const endpoint = new EspNowEndpoint({ input: InputRing.create(1024), mailbox, post: (message) => posted.push(message) });
    expect(espNowPollFlags(endpoint)).toBe(0);

    endpoint.init(528);
    expect(espNowPollFlags(endpoint)).toBe(PollFlag.writable);
    endpoint.send(Uint8Array.of(1, 2, 3, 4, 5, 6), Uint8Array.of(6, 5, 4, 3, 2, 1), Uint8Array.of(7), false);
    expect(espNowPollFlags(endpoint)).toBe(0);
    mailbox.recordResponse(true);
    expect(espNowPollFlags(endpoint)).toBe(PollFlag.writable);

    const activation = posted[0];
    if (activation?.type !== 'radio-espnow' || !activation.active) throw new Error('no receive buffer posted');
    RadioReceiveRing.attach(activation.ringBuffer).offer(Uint8Array.of(6, 5, 4, 3, 2, 1), Uint8Array.of(9), -40, 0);
    expect(espNowPollFlags(endpoint)).toBe(PollFlag.readable | PollFlag.writable);
    endpoint.take();
    expect(espNowPollFlags(endpoint)).toBe(PollFlag.writable);
  });
});
