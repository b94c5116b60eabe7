/**
 * The worker's USB device stack on its own (mp_usbd_runtime.c's rules): what each activation change
 * and soft-reset step posts, the ≥ 50 ms a disconnect holds the device off the bus, console output
 * flushed before a disconnect, events of ended connections dropped, transfer bookkeeping and the
 * scheduling of the Python trampoline.
 */
import { describe, expect, it } from 'vitest';
import type { RuntimeUsbConfig, UsbdFirmwareMessage } from '../../../sim/usbd/board-usb-port.ts';
import { builtinCdcDevice } from '../../../sim/usbd/builtin-cdc-device.ts';
import { UsbdEventRing } from '../../../sim/micropython/usbd-event-ring.ts';
import { UsbdStack } from '../../../sim/micropython/usbd-stack.ts';

const RUNTIME: RuntimeUsbConfig = { deviceDescriptor: new Uint8Array(18), configurationDescriptor: new Uint8Array(9), strings: [] };
const CDC_ONLY: UsbdFirmwareMessage = { kind: 'connect', builtin: 'cdc', runtime: null };

/** A stack whose posts (and console flushes) are recorded with the time they happened. */
function harness(withPort = true): { stack: UsbdStack; ring: UsbdEventRing; log: { what: string; atMs: number; message?: UsbdFirmwareMessage }[] } {
  const ring = UsbdEventRing.create(4096);
  const log: { what: string; atMs: number; message?: UsbdFirmwareMessage }[] = [];
  const stack = new UsbdStack({
    nativeUsb: true,
    deviceApi: true,
    builtin: builtinCdcDevice(new Uint8Array(6), 'v1.24.1'),
    events: UsbdEventRing.attach(ring.buffer),
    post: withPort ? (message) => log.push({ what: message.kind, atMs: performance.now(), message }) : null,
    flushConsole: () => log.push({ what: 'flush', atMs: performance.now() }),
  });
  return { stack, ring, log };
}

describe('presentation', () => {
  it('power-on: off the bus until initAfterBoot connects the built-in CDC', () => {
    const { stack, log } = harness();
    expect(stack.presented()).toBeNull();
    stack.initAfterBoot();
    expect(log.map((e) => e.message)).toEqual([CDC_ONLY]);
    expect(stack.presented()).toEqual({ builtin: 'cdc', runtime: null });
  });

  it('active(True) on the bus: flush, disconnect, at least 50 ms, connect the runtime device', () => {
    const { stack, log } = harness();
    stack.initAfterBoot();
    log.length = 0;
    stack.activate({ builtin: 'none', runtime: RUNTIME });
    expect(log.map((e) => e.what)).toEqual(['flush', 'disconnect', 'connect']);
    const [, disconnect, connect] = log;
    expect((connect?.atMs ?? 0) - (disconnect?.atMs ?? 0)).toBeGreaterThanOrEqual(50);
    expect(connect?.message).toEqual({ kind: 'connect', builtin: 'none', runtime: RUNTIME });
  });

  it('active(True) off the bus (boot.py at power-on) only connects; initAfterBoot then adds nothing', () => {
    const { stack, log } = harness();
    stack.activate({ builtin: 'cdc', runtime: RUNTIME });
    stack.initAfterBoot();
    expect(log.map((e) => e.what)).toEqual(['connect']);
  });

  it('active(False) leaves the bus; a soft reset then connects the built-in CDC after boot', () => {
    const { stack, log } = harness();
    stack.activate({ builtin: 'cdc', runtime: RUNTIME });
    stack.deactivate();
    expect(stack.presented()).toBeNull();
    log.length = 0;
    stack.deinitForSoftReset();
    expect(log).toEqual([]);
    stack.initAfterBoot();
    expect(log.map((e) => e.message)).toEqual([CDC_ONLY]);
  });

  it('soft reset with an active runtime device disconnects; without one it posts nothing', () => {
    const { stack, log } = harness();
    stack.initAfterBoot();
    log.length = 0;
    stack.deinitForSoftReset();
    stack.initAfterBoot();
    expect(log).toEqual([]);
    stack.activate({ builtin: 'cdc', runtime: RUNTIME });
    log.length = 0;
    stack.deinitForSoftReset();
    expect(log.map((e) => e.what)).toEqual(['flush', 'disconnect']);
    expect(stack.isActive()).toBe(false);
  });

  it('once USBDevice() exists, initAfterBoot connects nothing for an inactive device', () => {
    const { stack, log } = harness();
    stack.createSingleton(() => {});
    stack.initAfterBoot();
    expect(log).toEqual([]);
    stack.deinitForSoftReset(); // the singleton is gone with the VM
    stack.initAfterBoot();
    expect(log.map((e) => e.message)).toEqual([CDC_ONLY]);
  });

  it('without a port: posts nothing, keeps the state', () => {
    const { stack, log } = harness(false);
    stack.initAfterBoot();
    stack.activate({ builtin: 'cdc', runtime: RUNTIME });
    expect(stack.presented()).toEqual({ builtin: 'cdc', runtime: RUNTIME });
    expect(log.filter((e) => e.what !== 'flush')).toEqual([]);
  });
});

describe('events', () => {
  it('drops events of an ended connection and events while no runtime device is active', () => {
    const { stack, ring } = harness();
    stack.setIrqHandler(() => {});
    stack.initAfterBoot(); // connection 1, built-in CDC only
    ring.offer(1, { kind: 'bus-reset' });
    expect(stack.dispatchIrq()).toBe(false);
    stack.activate({ builtin: 'cdc', runtime: RUNTIME }); // connection 2
    ring.offer(1, { kind: 'bus-reset' });
    ring.offer(2, { kind: 'configured', configured: true, openInterfaces: [] });
    expect(stack.dispatchIrq()).toBe(true);
    expect(stack.takeEvent()?.kind).toBe('configured');
    expect(stack.takeEvent()).toBeNull();
  });

  it('tracks configuration and pending transfers as events are taken', () => {
    const { stack, ring, log } = harness();
    stack.activate({ builtin: 'cdc', runtime: RUNTIME });
    expect(stack.submit(0x81, { data: Uint8Array.of(1) })).toBe(false);
    ring.offer(1, { kind: 'configured', configured: true, openInterfaces: [] });
    expect(stack.isConfigured()).toBe(false); // not before the callback's turn
    stack.takeEvent();
    expect(stack.submit(0x81, { data: Uint8Array.of(1) })).toBe(true);
    expect(stack.submit(0x81, { data: Uint8Array.of(2) })).toBe(false);
    expect(stack.submit(0x01, { length: 64 })).toBe(true);
    ring.offer(1, { kind: 'xfer-complete', endpoint: 0x83, length: 1 }); // nothing pending there: dropped
    ring.offer(1, { kind: 'xfer-complete', endpoint: 0x81, length: 1 });
    expect(stack.takeEvent()).toEqual({ kind: 'xfer-complete', endpoint: 0x81, length: 1 });
    expect(stack.submit(0x81, { data: Uint8Array.of(3) })).toBe(true);
    ring.offer(1, { kind: 'bus-reset' });
    stack.takeEvent();
    expect(stack.submit(0x81, { data: Uint8Array.of(4) })).toBe(false);
    expect(log.filter((e) => e.what === 'submit').map((e) => e.message)).toEqual([
      { kind: 'submit', endpoint: 0x81, data: Uint8Array.of(1) },
      { kind: 'submit', endpoint: 0x01, length: 64 },
      { kind: 'submit', endpoint: 0x81, data: Uint8Array.of(3) },
    ]);
  });

  it('a host CLEAR_FEATURE(ENDPOINT_HALT) clears the stall flag before the request reaches Python', () => {
    const { stack, ring } = harness();
    stack.activate({ builtin: 'cdc', runtime: RUNTIME });
    stack.setStall(0x83, true);
    stack.setStall(0x03, true);
    expect(stack.isStalled(0x83)).toBe(true);
    const clearHalt = (endpoint: number): Uint8Array => Uint8Array.of(0x02, 0x01, 0, 0, endpoint, 0, 0, 0);
    ring.offer(1, { kind: 'control', id: 7, stage: 1, setup: clearHalt(0x83) });
    expect(stack.takeEvent()).toMatchObject({ kind: 'control', id: 7, stage: 1 });
    expect(stack.isStalled(0x83)).toBe(false);
    expect(stack.isStalled(0x03)).toBe(true);
  });

  it('schedules the trampoline once, retries when the schedule queue is full, forgets events without a handler', () => {
    const { stack, ring } = harness();
    stack.activate({ builtin: 'cdc', runtime: RUNTIME });
    ring.offer(1, { kind: 'bus-reset' });
    expect(stack.dispatchIrq()).toBe(false); // no USBDevice singleton yet: dropped
    let calls = 0;
    let full = true;
    stack.setIrqHandler(() => {
      calls++;
      if (full) throw new Error('schedule queue full');
    });
    ring.offer(1, { kind: 'bus-reset' });
    expect(stack.dispatchIrq()).toBe(false);
    full = false;
    expect(stack.dispatchIrq()).toBe(true);
    ring.offer(1, { kind: 'bus-reset' });
    expect(stack.dispatchIrq()).toBe(false); // already scheduled
    expect(stack.takeEvent()?.kind).toBe('bus-reset');
    expect(stack.takeEvent()?.kind).toBe('bus-reset');
    expect(stack.takeEvent()).toBeNull();
    expect(calls).toBe(2);
  });
});
