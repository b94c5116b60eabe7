import { describe, expect, it } from 'vitest';
import type { FunctionSpec } from '../../../runner/usb/descriptors/configuration-spec.ts';
import { parseStringDescriptor } from '../../../runner/usb/descriptors/string-descriptors.ts';
import { encodeSetupPacket, type UsbControlSetup, type UsbInTransferResult } from '../../../runner/usb/usb-control-device.ts';
import { PortFeature } from '../../../sim/usb/hub-protocol.ts';
import { bytesOf, setPortFeature } from '../usb/hub-requests.ts';
import { controllerOnHub, hidFunction, runtimeConfig, runtimeDeviceDescriptor, settle, vendorFunction } from './usbd-fixture.ts';

/** Built-in CDC (interfaces 0, 1) + vendor interface 2 (bulk 0x03/0x83) + HID interface 3 (interrupt 0x84). */
async function openedRuntimeDevice(functions: FunctionSpec[] = [vendorFunction(2, 3, 5), hidFunction(3, 4)]) {
  const fixture = controllerOnHub();
  const runtime = runtimeConfig('cdc', functions, { strings: [null, null, null, null, null, 'Vendor Link'] });
  fixture.firmware.connect('cdc', runtime);
  fixture.clock.advance(120);
  await settle();
  const device = await fixture.discovery.openDevice('1-1.2');
  if (device === null) throw new Error('no device enumerated at 1-1.2');
  await device.open();
  return { ...fixture, runtime, device };
}

const standardIn = (request: number, value: number, index = 0): UsbControlSetup => ({ requestType: 'standard', recipient: 'device', request, value, index });
const GET_DESCRIPTOR = 0x06;
const vendorToInterface2 = (request: number): UsbControlSetup => ({ requestType: 'vendor', recipient: 'interface', request, value: 7, index: 2 });

/** Settles `promise` into a readable state without awaiting it. */
function track<T>(promise: Promise<T>): { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } {
  const tracked: { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } = { state: 'pending' };
  promise.then((value) => Object.assign(tracked, { state: 'resolved', value }), (error: unknown) => Object.assign(tracked, { state: 'rejected', error }));
  return tracked;
}

describe('host transfers to the simulated native-USB device', () => {
  it('answers chapter 9 requests from the stack: descriptors (wLength honoured), strings, status, configuration', async () => {
    const { device, runtime, firmware } = await openedRuntimeDevice();
    expect([device.vendorId, device.productId]).toEqual([0x303a, 0x4001]);
    expect(bytesOf(await device.controlTransferIn(standardIn(GET_DESCRIPTOR, 0x0100), 18))).toEqual([...runtimeDeviceDescriptor()]);
    const header = bytesOf(await device.controlTransferIn(standardIn(GET_DESCRIPTOR, 0x0200), 9));
    expect(header).toEqual([...runtime.configurationDescriptor.subarray(0, 9)]);
    const totalLength = header[2]! | (header[3]! << 8);
    expect(totalLength).toBe(123);
    expect(bytesOf(await device.controlTransferIn(standardIn(GET_DESCRIPTOR, 0x0200), 0xff))).toEqual([...runtime.configurationDescriptor]);
    expect(bytesOf(await device.controlTransferIn(standardIn(GET_DESCRIPTOR, 0x0300), 0xff))).toEqual([4, 3, 0x09, 0x04]);
    const serial = await device.controlTransferIn(standardIn(GET_DESCRIPTOR, 0x0303, 0x0409), 0xff);
    expect(parseStringDescriptor(Uint8Array.from(bytesOf(serial)))).toBe('246f28aabbcc0000');
    const itfString = await device.controlTransferIn(standardIn(GET_DESCRIPTOR, 0x0305, 0x0409), 0xff);
    expect(parseStringDescriptor(Uint8Array.from(bytesOf(itfString)))).toBe('Vendor Link');
    expect((await device.controlTransferIn(standardIn(GET_DESCRIPTOR, 0x0309, 0x0409), 0xff)).status).toBe('stall');
    // A full-speed device without a qualifier or BOS stalls them.
    expect((await device.controlTransferIn(standardIn(GET_DESCRIPTOR, 0x0600), 10)).status).toBe('stall');
    expect(bytesOf(await device.controlTransferIn(standardIn(0x00, 0), 2))).toEqual([0, 0]);
    expect(bytesOf(await device.controlTransferIn(standardIn(0x08, 0), 1))).toEqual([1]);
    // None of that reached Python.
    expect(firmware.kinds()).toEqual(['bus-reset', 'configured']);
  });

  it('SET_CONFIGURATION(0) and (1) reach the firmware as configured false / true with the runtime slices', async () => {
    const { device, firmware } = await openedRuntimeDevice();
    firmware.events.length = 0;
    expect((await device.controlTransferOut(standardIn(0x09, 0))).status).toBe('ok');
    expect(bytesOf(await device.controlTransferIn(standardIn(0x08, 0), 1))).toEqual([0]);
    expect((await device.controlTransferOut(standardIn(0x09, 1))).status).toBe('ok');
    expect((await device.controlTransferOut(standardIn(0x09, 2))).status).toBe('stall');
    expect(firmware.events).toEqual([
      { kind: 'configured', configured: false, openInterfaces: [] },
      // Vendor interface 2 (9 + 7 + 7 bytes), then HID interface 3 (9 + 9 + 7).
      { kind: 'configured', configured: true, openInterfaces: [{ offset: 75, length: 23 }, { offset: 98, length: 25 }] },
    ]);
  });

  it('refuses to claim interfaces the kernel holds (cdc_acm, usbhid), claims vendor ones once', async () => {
    const { device, discovery } = await openedRuntimeDevice();
    await expect(device.claimInterface(0)).rejects.toMatchObject({ name: 'NetworkError', message: expect.stringContaining('cdc_acm') });
    await expect(device.claimInterface(1)).rejects.toMatchObject({ name: 'NetworkError', message: expect.stringContaining('cdc_acm') });
    await expect(device.claimInterface(3)).rejects.toMatchObject({ name: 'NetworkError', message: expect.stringContaining('usbhid') });
    await expect(device.claimInterface(7)).rejects.toMatchObject({ name: 'NotFoundError' });
    await device.claimInterface(2);
    const other = await discovery.openDevice('1-1.2');
    await other!.open();
    await expect(other!.claimInterface(2)).rejects.toMatchObject({ name: 'NetworkError', message: expect.stringContaining('another program') });
    await device.releaseInterface(2);
    await other!.claimInterface(2);
  });

  it('answers the built-in CDC\'s class requests in the stack, and keeps programs off its interfaces', async () => {
    const { device, controller, firmware } = await openedRuntimeDevice();
    const bus = controller.presentation!.bus!;
    const lineCoding = Uint8Array.of(0x80, 0x25, 0, 0, 0, 0, 8); // 9600 8N1
    const set = { requestType: 'class', recipient: 'interface', request: 0x20, value: 0, index: 0 } as const;
    expect(await bus.controlOut(encodeSetupPacket('out', set, 7), lineCoding)).toEqual({ status: 'ok', bytesWritten: 7 });
    const get = await bus.controlIn(encodeSetupPacket('in', { ...set, request: 0x21 }, 7));
    expect([...get.data]).toEqual([...lineCoding]);
    expect((await bus.controlOut(encodeSetupPacket('out', { ...set, request: 0x22, value: 3 }, 0), new Uint8Array(0))).status).toBe('ok');
    expect(controller.connection?.builtinCdc).toMatchObject({ dtr: true, rts: true });
    expect((await bus.controlIn(encodeSetupPacket('in', { ...set, request: 0x21, index: 1 }, 7))).status).toBe('stall');
    expect(firmware.kinds()).toEqual(['bus-reset', 'configured']);
    // WebUSB: a request to an interface needs it claimed, and cdc_acm has this one.
    await expect(device.controlTransferOut(set, lineCoding)).rejects.toMatchObject({ name: 'InvalidStateError' });
  });

  it('runs class/vendor requests through control_xfer_cb: SETUP → data → DATA → ACK, each stage answered', async () => {
    const { device, firmware } = await openedRuntimeDevice();
    await device.claimInterface(2);
    firmware.events.length = 0;
    firmware.onControl = (event) => (event.stage === 1 ? { action: 'data', data: Uint8Array.of(1, 2, 3, 4, 5, 6) } : { action: 'continue' });
    const result = await device.controlTransferIn(vendorToInterface2(0x42), 4);
    expect(bytesOf(result)).toEqual([1, 2, 3, 4]);
    expect(firmware.kinds()).toEqual(['control:1', 'control:2', 'control:3']);
    const [setupStage] = firmware.ofKind('control');
    expect([...setupStage!.setup]).toEqual([...encodeSetupPacket('in', vendorToInterface2(0x42), 4)]);

    firmware.events.length = 0;
    firmware.onControl = (event) => (event.stage === 1 ? { action: 'data', length: 16 } : { action: 'continue' });
    const written = await device.controlTransferOut(vendorToInterface2(0x43), Uint8Array.of(9, 8, 7, 6, 5));
    expect(written).toEqual({ status: 'ok', bytesWritten: 5 });
    expect(firmware.ofKind('control').map((event) => [event.stage, event.data === undefined ? null : [...event.data]])).toEqual([
      [1, null], [2, [9, 8, 7, 6, 5]], [3, null],
    ]);

    // True at SETUP: no data stage, straight to the status stage.
    firmware.events.length = 0;
    firmware.onControl = () => ({ action: 'continue' });
    expect(await device.controlTransferOut(vendorToInterface2(0x44))).toEqual({ status: 'ok', bytesWritten: 0 });
    expect(firmware.kinds()).toEqual(['control:1', 'control:3']);

    // A device-recipient vendor request needs no claim and reaches the runtime device too.
    firmware.onControl = (event) => (event.stage === 1 ? { action: 'data', data: Uint8Array.of(0xaa) } : { action: 'continue' });
    expect(bytesOf(await device.controlTransferIn({ requestType: 'vendor', recipient: 'device', request: 1, value: 0, index: 0 }, 1))).toEqual([0xaa]);
  });

  it('stalls when the firmware stalls at SETUP or DATA, and GET_INTERFACE still gets usbd.c\'s answer', async () => {
    const { device, firmware } = await openedRuntimeDevice();
    await device.claimInterface(2);
    firmware.events.length = 0;
    expect((await device.controlTransferIn(vendorToInterface2(0x50), 8)).status).toBe('stall');
    expect(firmware.kinds()).toEqual(['control:1']);

    firmware.events.length = 0;
    firmware.onControl = (event) => (event.stage === 1 ? { action: 'data', length: 4 } : { action: 'stall' });
    expect(await device.controlTransferOut(vendorToInterface2(0x51), Uint8Array.of(1, 2))).toEqual({ status: 'stall', bytesWritten: 0 });
    expect(firmware.kinds()).toEqual(['control:1', 'control:2']);

    firmware.onControl = () => ({ action: 'stall' });
    const getInterface = { requestType: 'standard', recipient: 'interface', request: 0x0a, value: 0, index: 2 } as const;
    expect(bytesOf(await device.controlTransferIn(getInterface, 1))).toEqual([0]);
  });

  it('fails a control transfer the firmware never answers after the host\'s 5 s timeout, and ignores the late answer', async () => {
    const { device, firmware, clock } = await openedRuntimeDevice();
    await device.claimInterface(2);
    const unanswered: { id: number; stage: 1 | 2 | 3 }[] = [];
    firmware.onControl = (event) => {
      unanswered.push({ id: event.id, stage: event.stage });
      return null;
    };
    const transfer = track(device.controlTransferIn(vendorToInterface2(0x60), 8));
    clock.advance(4999);
    await settle();
    expect(transfer.state).toBe('pending');
    clock.advance(1);
    await settle();
    expect(transfer).toMatchObject({ state: 'rejected', error: { name: 'TimeoutError' } });
    firmware.send({ kind: 'control-reply', id: unanswered[0]!.id, stage: 1, action: 'data', data: Uint8Array.of(1) });
    firmware.onControl = (event) => (event.stage === 1 ? { action: 'data', data: Uint8Array.of(7) } : { action: 'continue' });
    expect(bytesOf(await device.controlTransferIn(vendorToInterface2(0x61), 8))).toEqual([7]);
  });

  it('completes a bulk OUT when the firmware has a buffer submitted (NAK until then), delivering what fits', async () => {
    const { device, firmware } = await openedRuntimeDevice();
    await device.claimInterface(2);
    firmware.events.length = 0;
    const data = Uint8Array.from({ length: 100 }, (_, i) => i);
    const out = track(device.transferOut(3, data));
    await settle();
    expect(out.state).toBe('pending');
    firmware.send({ kind: 'submit', endpoint: 0x03, length: 64 });
    await settle();
    expect(out).toMatchObject({ state: 'resolved', value: { status: 'ok', bytesWritten: 64 } });
    expect(firmware.events).toEqual([{ kind: 'xfer-complete', endpoint: 0x03, length: 64, data: data.slice(0, 64) }]);
    // Submitted first: the host's transfer completes at once.
    firmware.send({ kind: 'submit', endpoint: 0x03, length: 64 });
    expect(await device.transferOut(3, Uint8Array.of(1, 2, 3))).toEqual({ status: 'ok', bytesWritten: 3 });
  });

  it('returns a bulk IN from the pending submission: whole packets leave the rest queued, an overrun is babble', async () => {
    const { device, firmware } = await openedRuntimeDevice();
    await device.claimInterface(2);
    firmware.events.length = 0;
    const first = track(device.transferIn(3, 64));
    await settle();
    expect(first.state).toBe('pending');
    firmware.send({ kind: 'submit', endpoint: 0x83, data: Uint8Array.of(5, 6, 7) });
    await settle();
    expect(first.state).toBe('resolved');
    expect(bytesOf(first.value as UsbInTransferResult)).toEqual([5, 6, 7]);
    expect(firmware.events).toEqual([{ kind: 'xfer-complete', endpoint: 0x83, length: 3 }]);

    const long = Uint8Array.from({ length: 100 }, (_, i) => i);
    firmware.send({ kind: 'submit', endpoint: 0x83, data: long });
    expect(bytesOf(await device.transferIn(3, 64))).toEqual([...long.subarray(0, 64)]);
    expect(firmware.events).toHaveLength(1);
    const overrun = await device.transferIn(3, 10);
    expect([overrun.status, bytesOf(overrun)]).toEqual(['babble', [...long.subarray(64, 74)]]);
    expect(bytesOf(await device.transferIn(3, 64))).toEqual([...long.subarray(64)]);
    expect(firmware.events.at(-1)).toEqual({ kind: 'xfer-complete', endpoint: 0x83, length: 100 });
  });

  it('stalls a halted endpoint until CLEAR_FEATURE(ENDPOINT_HALT), which the firmware also sees', async () => {
    const { device, firmware } = await openedRuntimeDevice();
    await device.claimInterface(2);
    const waiting = track(device.transferIn(3, 64));
    firmware.send({ kind: 'stall', endpoint: 0x83, stall: true });
    await settle();
    expect(waiting).toMatchObject({ state: 'resolved', value: { status: 'stall' } });
    expect((await device.transferIn(3, 64)).status).toBe('stall');
    const endpointStatus = { requestType: 'standard', recipient: 'endpoint', request: 0x00, value: 0, index: 0x83 } as const;
    expect(bytesOf(await device.controlTransferIn(endpointStatus, 2))).toEqual([1, 0]);
    firmware.events.length = 0;
    firmware.onControl = () => ({ action: 'stall' });
    const clearHalt = { requestType: 'standard', recipient: 'endpoint', request: 0x01, value: 0, index: 0x83 } as const;
    expect((await device.controlTransferOut(clearHalt)).status).toBe('ok');
    expect(firmware.ofKind('control').map((event) => [...event.setup])).toEqual([[0x02, 0x01, 0, 0, 0x83, 0, 0, 0]]);
    expect(bytesOf(await device.controlTransferIn(endpointStatus, 2))).toEqual([0, 0]);
    firmware.send({ kind: 'submit', endpoint: 0x83, data: Uint8Array.of(1) });
    expect(bytesOf(await device.transferIn(3, 64))).toEqual([1]);
  });

  it('needs the endpoint\'s interface claimed by this handle before a transfer', async () => {
    const { device } = await openedRuntimeDevice();
    await expect(device.transferIn(3, 64)).rejects.toMatchObject({ name: 'NotFoundError' });
    await expect(device.transferOut(2, Uint8Array.of(1))).rejects.toMatchObject({ name: 'NotFoundError' });
    await expect(device.transferIn(9, 64)).rejects.toMatchObject({ name: 'NotFoundError' });
  });

  it('on a port reset: the firmware hears bus-reset, pending transfers are dropped, the host configures it again', async () => {
    const { device, firmware, hub, clock } = await openedRuntimeDevice();
    await device.claimInterface(2);
    firmware.send({ kind: 'submit', endpoint: 0x03, length: 64 });
    const pending = track(device.transferIn(3, 64));
    firmware.events.length = 0;
    const control = hub.controlDevice();
    await control.open();
    await setPortFeature(control, PortFeature.PORT_RESET, 2);
    await settle();
    expect(firmware.kinds()).toEqual(['bus-reset']);
    expect(pending).toMatchObject({ state: 'rejected', error: { name: 'NetworkError' } });
    clock.advance(10);
    await settle();
    expect(firmware.kinds()).toEqual(['bus-reset', 'configured']);
    // The submission from before the reset is gone; the handle and its claim survive.
    const out = track(device.transferOut(3, Uint8Array.of(1)));
    await settle();
    expect(out.state).toBe('pending');
    firmware.send({ kind: 'submit', endpoint: 0x03, length: 64 });
    await settle();
    expect(out).toMatchObject({ state: 'resolved', value: { status: 'ok', bytesWritten: 1 } });
  });

  it('fails pending and later transfers with NotFoundError once the device is gone; close aborts with AbortError', async () => {
    const { device, firmware, discovery } = await openedRuntimeDevice();
    await device.claimInterface(2);
    const closing = track(device.transferIn(3, 64));
    await device.close();
    await settle();
    expect(closing).toMatchObject({ state: 'rejected', error: { name: 'AbortError' } });
    await device.open();
    await device.claimInterface(2);
    const pending = track(device.transferIn(3, 64));
    firmware.send({ kind: 'disconnect' });
    await settle();
    expect(pending).toMatchObject({ state: 'rejected', error: { name: 'NotFoundError' } });
    expect(device.opened).toBe(false);
    await expect(device.transferIn(3, 64)).rejects.toMatchObject({ name: 'NotFoundError' });
    await expect(device.controlTransferIn(standardIn(GET_DESCRIPTOR, 0x0100), 18)).rejects.toMatchObject({ name: 'NotFoundError' });
    expect(await discovery.openDevice('1-1.2')).toBeNull();
  });
});
