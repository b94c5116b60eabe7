/**
 * The host thread's end of a board's native USB: attaches the firmware to the port for the worker's
 * life, passes messages on, writes events into the ring tagged with the connection they belong to,
 * keeps events that do not fit until the worker makes room, and goes quiet after dispose.
 */
import { describe, expect, it } from 'vitest';
import type { BoardUsbPort, UsbdFirmwareEvent, UsbdFirmwareMessage } from '../../../sim/usbd/board-usb-port.ts';
import { UsbdHostBridge } from '../../../sim/micropython/usbd-host-bridge.ts';
import { UsbdEventRing } from '../../../sim/micropython/usbd-event-ring.ts';

class RecordingPort implements BoardUsbPort {
  readonly messages: UsbdFirmwareMessage[] = [];
  sink: ((event: UsbdFirmwareEvent) => void) | null = null;
  detaches = 0;

  attachFirmware(sink: (event: UsbdFirmwareEvent) => void): () => void {
    this.sink = sink;
    return () => {
      this.detaches++;
      this.sink = null;
    };
  }

  fromFirmware(message: UsbdFirmwareMessage): void {
    this.messages.push(message);
  }

  emit(event: UsbdFirmwareEvent): void {
    if (this.sink === null) throw new Error('not attached');
    this.sink(event);
  }
}

const CONNECT: UsbdFirmwareMessage = { kind: 'connect', builtin: 'cdc', runtime: null };

describe('UsbdHostBridge', () => {
  it('attaches at construction, passes messages on in order and detaches once on dispose', () => {
    const port = new RecordingPort();
    const bridge = new UsbdHostBridge(port, () => {});
    expect(bridge.attached).toBe(true);
    expect(port.sink).not.toBeNull();
    bridge.handle({ type: 'usbd', message: CONNECT });
    bridge.handle({ type: 'usbd', message: { kind: 'disconnect' } });
    bridge.dispose();
    bridge.dispose();
    bridge.handle({ type: 'usbd', message: CONNECT });
    expect(port.messages).toEqual([CONNECT, { kind: 'disconnect' }]);
    expect(port.detaches).toBe(1);
  });

  it('without a port: not attached, messages go nowhere', () => {
    const bridge = new UsbdHostBridge(undefined, () => {});
    expect(bridge.attached).toBe(false);
    expect(() => bridge.handle({ type: 'usbd', message: CONNECT })).not.toThrow();
    bridge.dispose();
  });

  it('tags events with the connects passed on so far and rings the doorbell', () => {
    const port = new RecordingPort();
    let rings = 0;
    const bridge = new UsbdHostBridge(port, () => rings++);
    const worker = UsbdEventRing.attach(bridge.events.buffer);
    port.emit({ kind: 'bus-reset' });
    bridge.handle({ type: 'usbd', message: CONNECT });
    bridge.handle({ type: 'usbd', message: { kind: 'disconnect' } });
    bridge.handle({ type: 'usbd', message: CONNECT });
    port.emit({ kind: 'bus-reset' });
    expect(worker.take()?.connection).toBe(0);
    expect(worker.take()?.connection).toBe(2);
    expect(rings).toBe(2);
  });

  it('keeps events that do not fit, in order, until the worker has taken some', async () => {
    const port = new RecordingPort();
    let rings = 0;
    const bridge = new UsbdHostBridge(port, () => rings++, 64);
    const worker = UsbdEventRing.attach(bridge.events.buffer);
    const event = (length: number): UsbdFirmwareEvent => ({ kind: 'xfer-complete', endpoint: 0x02, length, data: new Uint8Array(length) });
    for (let i = 1; i <= 5; i++) port.emit(event(i));
    const lengths: number[] = [];
    for (let spins = 0; lengths.length < 5 && spins < 100; spins++) {
      for (let taken = worker.take(); taken !== null; taken = worker.take()) {
        if (taken.event.kind === 'xfer-complete') lengths.push(taken.event.length);
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(lengths).toEqual([1, 2, 3, 4, 5]);
    expect(rings).toBe(5);
    bridge.dispose();
  });

  it('refuses an event larger than its ring, naming it', () => {
    const port = new RecordingPort();
    const bridge = new UsbdHostBridge(port, () => {}, 64);
    expect(() => port.emit({ kind: 'xfer-complete', endpoint: 2, length: 500, data: new Uint8Array(500) })).toThrow(/xfer-complete.*64-byte/);
  });

  it('drops events after dispose', () => {
    const port = new RecordingPort();
    const bridge = new UsbdHostBridge(port, () => {});
    const sink = port.sink;
    bridge.dispose();
    sink?.({ kind: 'bus-reset' });
    expect(UsbdEventRing.attach(bridge.events.buffer).take()).toBeNull();
  });
});
