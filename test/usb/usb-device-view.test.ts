/**
 * The host-side USB view against a device that behaves as WebUSB specifies (FakeWebUsbDevice):
 * descriptor reads as a host makes them, strings, the summary and problems for reports, vendor control
 * round trips, stalls as answers, bulk loopback, deadlines that name what did not answer, and a
 * device that goes away.
 */
import { describe, expect, it } from 'vitest';
import { isHilError, type HilError } from '../../runner/errors.ts';
import { encodeConfiguration } from '../../runner/usb/descriptors/encode-configuration.ts';
import { parseConfiguration } from '../../runner/usb/descriptors/parse-configuration.ts';
import { formatUsbDeviceSummary } from '../../runner/usb/usb-device-summary.ts';
import { expectOk, UsbDeviceView } from '../../runner/usb/usb-device-view.ts';
import {
  BOARD_BULK_IN,
  BOARD_BULK_OUT,
  BOARD_CONFIGURATION_SPEC,
  BOARD_VENDOR_INTERFACE,
  boardGadgetSpec,
  ECHO_REQUEST,
  HANGING_REQUEST,
} from '../bench/fake-board-gadget.ts';
import { FakeUsbGadget, type FakeUsbGadgetSpec } from '../bench/fake-usb-gadget.ts';
import { FakeWebUsbDevice } from '../bench/fake-webusb-device.ts';
import { flushTasks, ManualClock } from '../repl/manual-clock.ts';

const ECHO_OUT = { requestType: 'vendor', recipient: 'device', request: ECHO_REQUEST, value: 0, index: 0 } as const;

function board(overrides: Partial<FakeUsbGadgetSpec> = {}) {
  const gadget = new FakeUsbGadget(boardGadgetSpec(overrides));
  const device = new FakeWebUsbDevice(gadget);
  const clock = new ManualClock();
  const view = new UsbDeviceView(device, { portPath: '1-1.3', clock });
  return { gadget, device, clock, view };
}

/** The rejection of `promise`, which must reject with a HilError. */
async function failure(promise: Promise<unknown>): Promise<HilError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  if (!isHilError(err)) throw new Error(`expected a HilError, got ${String(err)}`);
  return err;
}

describe('UsbDeviceView descriptors', () => {
  it('opens the device and reads descriptors as a host does: 18 bytes, 9 bytes, then wTotalLength', async () => {
    const { device, view } = board();
    const descriptor = await view.readDeviceDescriptor();
    expect([descriptor.vendorId, descriptor.productId, descriptor.deviceClass]).toEqual([0x303a, 0x4001, 0xef]);
    const config = await view.readConfiguration();
    expect(config.interfaces.map((itf) => itf.number)).toEqual([0, 1, 2]);
    const total = encodeConfiguration(BOARD_CONFIGURATION_SPEC).length;
    expect(device.calls).toEqual([
      'open',
      'controlTransferIn(80 06 00 01 00 00 12 00)',
      'controlTransferIn(80 06 00 02 00 00 09 00)',
      `controlTransferIn(80 06 00 02 00 00 ${total.toString(16).padStart(2, '0')} 00)`,
    ]);
    // Read once: a re-enumerated device is a new device object.
    await view.readConfiguration();
    expect(device.calls).toHaveLength(4);
  });

  it('reads the language list, then strings by index in the first language', async () => {
    const { device, view } = board({ strings: { 1: 'Espressif Systems', 2: 'Ünïcode ✓' }, languageIds: [0x0407, 0x0409] });
    expect(await view.readLanguageIds()).toEqual([0x0407, 0x0409]);
    expect(await view.readString(2)).toBe('Ünïcode ✓');
    expect(await view.readString(9)).toBeNull(); // the device stalls: a host shows no string
    expect(device.calls.slice(-2)).toEqual(['controlTransferIn(80 06 02 03 07 04 ff 00)', 'controlTransferIn(80 06 09 03 07 04 ff 00)']);
    expect((await failure(view.readString(0))).code).toBe('USAGE');
  });

  it('gives no strings for a device without a language list', async () => {
    const { view } = board({ languageIds: [] });
    expect(await view.readLanguageIds()).toEqual([]);
    expect(await view.readString(1)).toBeNull();
  });

  it('summarizes functions, interfaces and endpoints with their names for reports', async () => {
    const { view } = board();
    const summary = await view.summary();
    expect(summary).toMatchObject({
      portPath: '1-1.3', vendorId: 0x303a, productId: 0x4001, manufacturer: 'Espressif Systems', product: 'Espressif Device', serialNumber: 'f412fa4b5c3d',
      configuration: { value: 1, maxPowerMa: 250, interfaceCount: 3 },
    });
    expect(summary.functions.map((fn) => [fn.functionClass, fn.associated, fn.name, fn.interfaces.map((itf) => itf.number)]))
      .toEqual([[0x02, true, 'Board CDC', [0, 1]], [0xff, false, 'Loopback', [2]]]);
    expect(summary.functions[1]!.interfaces[0]!.endpoints).toEqual([
      { address: 0x03, direction: 'out', transferType: 'bulk', maxPacketSize: 64, interval: 0 },
      { address: 0x83, direction: 'in', transferType: 'bulk', maxPacketSize: 64, interval: 0 },
    ]);
    expect(formatUsbDeviceSummary(summary)).toEqual([
      '1-1.3 303a:4001 "Espressif Systems" "Espressif Device" serial "f412fa4b5c3d", USB 2.00, class ef/02/01',
      'configuration 1: 250 mA, bus powered, 3 interface(s)',
      '  function 02/02/00 (IAD) "Board CDC"',
      '    interface 0 02/02/00 "Board CDC"',
      '      0x81 interrupt IN 8 B, interval 16',
      '    interface 1 0a/00/00 -',
      '      0x02 bulk OUT 64 B',
      '      0x82 bulk IN 64 B',
      '  function ff/00/00 "Loopback"',
      '    interface 2 ff/00/00 "Loopback"',
      '      0x03 bulk OUT 64 B',
      '      0x83 bulk IN 64 B',
    ]);
  });

  it('lists what a host has against the descriptors', async () => {
    expect(await board().view.problems()).toEqual([]);
    const greedy = board({ configuration: encodeConfiguration({ ...BOARD_CONFIGURATION_SPEC, maxPowerMa: 510 }) });
    expect((await greedy.view.problems()).map((problem) => [problem.code, problem.severity, problem.offset]))
      .toEqual([['configuration-power-over-limit', 'refuse', 0]]);
  });

  it('refuses a malformed configuration with USB_DESCRIPTOR_INVALID naming the byte offset and the device', async () => {
    const bytes = encodeConfiguration(BOARD_CONFIGURATION_SPEC);
    const offset = parseConfiguration(bytes).interfaces[2]!.alternates[0]!.endpoints[1]!.offset;
    bytes[offset] = 0; // bLength 0: a host cannot step past it
    const err = await failure(board({ configuration: bytes }).view.readConfiguration());
    expect(err.code).toBe('USB_DESCRIPTOR_INVALID');
    expect(err.message).toContain(`byte ${offset}: bLength 0`);
    expect(err.evidence).toMatchObject({ offset, fault: 'zero-length', portPath: '1-1.3', descriptor: 'configuration' });
  });

  it('refuses a configuration whose device sends fewer bytes than its wTotalLength', async () => {
    const bytes = encodeConfiguration(BOARD_CONFIGURATION_SPEC);
    const err = await failure(board({ configuration: bytes.slice(0, bytes.length - 7) }).view.readConfiguration());
    expect(err).toMatchObject({ code: 'USB_DESCRIPTOR_INVALID', evidence: { offset: 2, fault: 'total-length-mismatch' } });
    expect(err.message).toContain(`wTotalLength ${bytes.length} but only ${bytes.length - 7} bytes given`);
  });

  it('treats a stalled or empty device descriptor as a device no host can enumerate', async () => {
    const stalled = await failure(board({ stallDescriptorTypes: [0x01] }).view.readDeviceDescriptor());
    expect(stalled).toMatchObject({ code: 'USB_DESCRIPTOR_INVALID', evidence: { portPath: '1-1.3', descriptor: 'device', status: 'stall' } });
    expect(stalled.message).toBe('1-1.3: GET_DESCRIPTOR(device, 18 bytes) answered stall: a host cannot enumerate a device that does not give its device descriptor');
    const empty = await failure(board({ device: new Uint8Array(0) }).view.readDeviceDescriptor());
    expect(empty).toMatchObject({ code: 'USB_DESCRIPTOR_INVALID', evidence: { fault: 'truncated', offset: 0, portPath: '1-1.3', descriptor: 'device' } });
  });
});

describe('UsbDeviceView transfers', () => {
  it('round-trips a vendor request: the OUT data stage comes back on IN', async () => {
    const { view } = board();
    expect(await view.controlOut(ECHO_OUT, Uint8Array.of(1, 2, 3))).toMatchObject({ status: 'ok', bytesWritten: 3 });
    const answer = await view.controlIn(ECHO_OUT, 64);
    expect(answer.status).toBe('ok');
    expect([...answer.data]).toEqual([1, 2, 3]);
    expect(expectOk(answer)).toBe(answer);
  });

  it('reports a stall as an answer, and expectOk turns it into an error naming the request', async () => {
    const { view } = board();
    const stalled = await view.controlIn({ ...ECHO_OUT, request: 0x09, value: 0x1234 }, 8);
    expect(stalled).toMatchObject({ status: 'stall', data: new Uint8Array(0) });
    expect(() => expectOk(stalled)).toThrow('1-1.3: vendor request 0x09 to the device (wValue 0x1234, wIndex 0x0000) stalled (the device refused it)');
  });

  it('needs a claimed interface for requests to it, as WebUSB does', async () => {
    const { view } = board();
    const toInterface = { ...ECHO_OUT, recipient: 'interface', index: BOARD_VENDOR_INTERFACE } as const;
    const refused = await failure(view.controlOut(toInterface, Uint8Array.of(7)));
    expect(refused.message).toMatch(/^1-1\.3: vendor request 0x01 to interface 2 .* failed: .*claim the interface first/);
    expect(refused.evidence).toMatchObject({ transferError: 'InvalidStateError', portPath: '1-1.3' });
    await view.claimInterface(BOARD_VENDOR_INTERFACE);
    expect((await view.controlOut(toInterface, Uint8Array.of(7))).status).toBe('ok');
  });

  it('loops bulk data back through the vendor interface once it is claimed', async () => {
    const { view, gadget } = board();
    const before = await failure(view.bulkOut(BOARD_BULK_OUT, Uint8Array.of(9)));
    expect(before.evidence).toMatchObject({ transferError: 'InvalidStateError', endpoint: BOARD_BULK_OUT });
    await view.claimInterface(BOARD_VENDOR_INTERFACE);
    const payload = Uint8Array.from({ length: 40 }, (_, i) => i);
    expect(await view.bulkOut(BOARD_BULK_OUT, payload)).toMatchObject({ status: 'ok', bytesWritten: 40, request: 'bulk OUT 0x03 (EP 3 OUT)' });
    const back = await view.bulkIn(BOARD_BULK_IN, 64);
    expect([...back.data]).toEqual([...payload]);
    gadget.stalled.add(BOARD_BULK_IN);
    expect((await view.bulkIn(BOARD_BULK_IN, 64)).status).toBe('stall');
  });

  it('times out a read naming the endpoint, and hands the bytes that arrive later to the next read', async () => {
    const { view, gadget, clock } = board();
    await view.claimInterface(BOARD_VENDOR_INTERFACE);
    const read = view.bulkIn(BOARD_BULK_IN, 64, { timeoutMs: 200 });
    await flushTasks();
    clock.advance(200);
    const err = await failure(read);
    expect(err).toMatchObject({ code: 'TIMEOUT', evidence: { portPath: '1-1.3', endpoint: BOARD_BULK_IN, timeoutMs: 200 } });
    expect(err.message).toBe('1-1.3: bulk IN 0x83 (EP 3 IN): no answer within 200 ms');
    // The transfer cannot be cancelled: it stays queued at the device, and only it.
    expect(gadget.waitingReads(BOARD_BULK_IN)).toBe(1);
    gadget.send(BOARD_BULK_IN, Uint8Array.of(42));
    const next = view.bulkIn(BOARD_BULK_IN, 64, { timeoutMs: 200 });
    await flushTasks();
    clock.advance(200); // a read that had not adopted the first one would time out here
    expect([...(await next).data]).toEqual([42]);
    expect(gadget.waitingReads(BOARD_BULK_IN)).toBe(0);
  });

  it('times out a control request naming it', async () => {
    const { view, clock } = board();
    const hanging = view.controlIn({ ...ECHO_OUT, request: HANGING_REQUEST }, 4, { timeoutMs: 100 });
    await flushTasks();
    clock.advance(100);
    expect((await failure(hanging)).message).toBe('1-1.3: vendor request 0x02 to the device (wValue 0x0000, wIndex 0x0000): no answer within 100 ms');
  });

  it('stops waiting when the signal fires', async () => {
    const { view } = board();
    await view.claimInterface(0);
    const stop = new AbortController();
    const read = view.interruptIn(0x81, 8, { signal: stop.signal });
    await flushTasks();
    stop.abort();
    expect((await failure(read)).code).toBe('ABORTED');
  });

  it('checks endpoint addresses: direction always, transfer type once the configuration is known', async () => {
    const { view } = board();
    expect((await failure(view.bulkIn(BOARD_BULK_OUT, 8))).message).toBe('1-1.3: 0x03 (EP 3 OUT) is the wrong direction: this transfer needs an IN address (bit 7 set), e.g. 0x83');
    expect((await failure(view.bulkOut(0x00, Uint8Array.of(1)))).code).toBe('USAGE');
    await view.readConfiguration();
    expect((await failure(view.interruptIn(BOARD_BULK_IN, 8))).message).toMatch(/^1-1\.3 describes 0x83 \(EP 3 IN\) as bulk, not interrupt; its endpoints: 0x81 interrupt \(interface 0\)/);
    expect((await failure(view.bulkIn(0x85, 8))).message).toMatch(/^1-1\.3 has no endpoint 0x85 \(EP 5 IN\)/);
  });

  it('rejects a pending read when the device goes, saying so', async () => {
    const { view, gadget } = board();
    await view.claimInterface(BOARD_VENDOR_INTERFACE);
    const read = view.bulkIn(BOARD_BULK_IN, 64);
    await flushTasks();
    gadget.unplug();
    const err = await failure(read);
    expect(err.message).toMatch(/^1-1\.3: bulk IN 0x83 \(EP 3 IN\) failed: the device has gone/);
    expect(err.evidence).toMatchObject({ transferError: 'NotFoundError' });
    expect(view.opened).toBe(false);
    await view.close(); // a gone device closes quietly
  });

  it('releases what it claimed and closes what it opened; leaves an owner\'s open device open', async () => {
    const { view, device } = board();
    await view.claimInterface(BOARD_VENDOR_INTERFACE);
    await view.close();
    expect(device.calls.slice(-2)).toEqual([`releaseInterface(${BOARD_VENDOR_INTERFACE})`, 'close']);
    expect(device.opened).toBe(false);

    const owned = board();
    await owned.device.open();
    await owned.view.readDeviceDescriptor();
    await owned.view.close();
    expect(owned.device.opened).toBe(true);
  });
});
