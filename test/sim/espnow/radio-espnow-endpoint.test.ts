/**
 * The worker's end of ESP-NOW without a VM: activation messages, counters per singleton, the irq
 * trampoline scheduled once per batch of packets, and waits that end on readiness, timeout or Ctrl-C.
 */
import { describe, expect, it } from 'vitest';
import { WaitOutcome } from '../../../sim/micropython/board-runtime.ts';
import { InputRing } from '../../../sim/micropython/input-ring.ts';
import { EspNowEndpoint } from '../../../sim/micropython/radio-espnow-endpoint.ts';
import { RadioMailbox } from '../../../sim/micropython/radio-mailbox.ts';
import type { RadioWorkerMessage } from '../../../sim/micropython/radio-messages.ts';

function setup(): { endpoint: EspNowEndpoint; mailbox: RadioMailbox; input: InputRing; posted: RadioWorkerMessage[] } {
  const input = InputRing.create(1024);
  const mailbox = RadioMailbox.create();
  const posted: RadioWorkerMessage[] = [];
  return { endpoint: new EspNowEndpoint({ input, mailbox, post: (m) => posted.push(m) }), mailbox, input, posted };
}

const SRC = Uint8Array.of(0x24, 0, 0, 0, 0, 1);
const DST = Uint8Array.of(0x24, 0, 0, 0, 0, 2);

describe('EspNowEndpoint', () => {
  it('announces activation once with its receive buffer, and deactivation with the keys cleared', () => {
    const { endpoint, posted } = setup();
    endpoint.init(528);
    endpoint.init(100);
    expect(posted).toHaveLength(1);
    expect(posted[0]).toMatchObject({ type: 'radio-espnow', active: true });
    expect(endpoint.isActive()).toBe(true);
    endpoint.deinit();
    endpoint.deinit();
    expect(posted.slice(1)).toEqual([
      { type: 'radio-espnow', active: false },
      { type: 'radio-keys', pmk: new Uint8Array(16), peers: [] },
    ]);
  });

  it('counts sends and answers; deinit forgets outstanding answers; a soft reset restarts the counters', () => {
    const { endpoint, mailbox } = setup();
    endpoint.init(528);
    endpoint.send(SRC, DST, Uint8Array.of(1), false);
    endpoint.send(SRC, DST, Uint8Array.of(2), false);
    mailbox.recordResponse(false);
    mailbox.recordReception(true);
    mailbox.recordReception(false);
    expect(endpoint.stats()).toEqual({ txPackets: 2, txResponses: 1, txFailures: 1, rxPackets: 1, rxDropped: 1 });
    expect(endpoint.responsesPending()).toBe(true);
    endpoint.deinit();
    expect(endpoint.responsesPending()).toBe(false);
    expect(endpoint.stats().txPackets).toBe(1);
    endpoint.resetForSoftReboot();
    expect(endpoint.stats()).toEqual({ txPackets: 0, txResponses: 0, txFailures: 0, rxPackets: 0, rxDropped: 0 });
  });

  it('schedules the irq trampoline once per batch and owes one callback per packet', () => {
    const { endpoint, mailbox } = setup();
    endpoint.init(528);
    let scheduled = 0;
    mailbox.recordReception(true);
    endpoint.setIrqHandler(() => scheduled++);
    expect(endpoint.dispatchIrq()).toBe(false);
    mailbox.recordReception(true);
    mailbox.recordReception(true);
    mailbox.recordReception(false);
    expect(endpoint.dispatchIrq()).toBe(true);
    mailbox.recordReception(true);
    expect(endpoint.dispatchIrq()).toBe(false);
    expect(scheduled).toBe(1);
    expect(endpoint.takeIrqCallbacks()).toBe(3);
    expect(endpoint.takeIrqCallbacks()).toBe(0);
  });

  it('tries again at the next safe point when the schedule queue is full', () => {
    const { endpoint, mailbox } = setup();
    let full = true;
    endpoint.setIrqHandler(() => {
      if (full) throw new Error('schedule queue full');
    });
    mailbox.recordReception(true);
    expect(endpoint.dispatchIrq()).toBe(false);
    full = false;
    expect(endpoint.dispatchIrq()).toBe(true);
    expect(endpoint.takeIrqCallbacks()).toBe(1);
  });

  it('waits until ready, until the timeout, or until a keyboard interrupt', () => {
    const { endpoint, input } = setup();
    let blocked = 0;
    expect(endpoint.waitUntil(() => true, -1, () => blocked++)).toBe(WaitOutcome.event);
    expect(endpoint.waitUntil(() => false, 5, () => blocked++)).toBe(WaitOutcome.timeout);
    expect(blocked).toBe(1);
    input.recordInterrupt(false);
    expect(endpoint.waitUntil(() => false, -1, () => {})).toBe(WaitOutcome.interrupted);
    expect(endpoint.waitUntil(() => false, 0, () => {})).toBe(WaitOutcome.timeout);
  });
});
