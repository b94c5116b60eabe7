/**
 * PhysicalDiscovery.openDevice: the `usb` package's device at a port path, made to behave as WebUSB
 * (webusb-transfer-device.ts), driven through the host-side view. The fake source's device behaves as
 * usb 3.1.0 does (stalls and timeouts reject, transfers time out after 1 s, claims survive close), so
 * these tests fail if the adapter passes any of that through.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PhysicalDiscovery } from '../../runner/bench/physical-discovery.ts';
import { isHilError, type HilError } from '../../runner/errors.ts';
import { UsbDeviceView } from '../../runner/usb/usb-device-view.ts';
import { flushTasks, ManualClock } from '../repl/manual-clock.ts';
import { BOARD_BULK_IN, BOARD_BULK_OUT, BOARD_VENDOR_INTERFACE, boardGadgetSpec, ECHO_REQUEST } from './fake-board-gadget.ts';
import { FakeUsbGadget } from './fake-usb-gadget.ts';
import { FakeHostUsbDevice, FakeUsbSource } from './fake-usb-source.ts';
import { SEVEN_PORT_HUB_BENCH } from './fixtures/seven-port-hub-bench.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The bench fixture with the S3 board on port 4 given descriptors and endpoints; the CDC interfaces belong to cdc_acm. */
function bench() {
  const clock = new ManualClock();
  const gadget = new FakeUsbGadget(boardGadgetSpec());
  const source = new FakeUsbSource(SEVEN_PORT_HUB_BENCH);
  const board = new FakeHostUsbDevice(SEVEN_PORT_HUB_BENCH[4]!, { gadget, clock, kernelBound: [0, 1] });
  source.replace(board);
  const discovery = new PhysicalDiscovery({ loadUsb: async () => source, sysfs: null, listSerialPorts: null });
  cleanups.push(() => discovery.close());
  return { clock, gadget, source, board, discovery };
}

async function viewOf(discovery: PhysicalDiscovery, clock: ManualClock, portPath = '1-1.4'): Promise<UsbDeviceView> {
  const device = await discovery.openDevice(portPath);
  if (device === null) throw new Error(`nothing at ${portPath}`);
  const view = new UsbDeviceView(device, { portPath, clock });
  cleanups.push(() => view.close());
  return view;
}

async function failure(promise: Promise<unknown>): Promise<HilError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  if (!isHilError(err)) throw new Error(`expected a HilError, got ${String(err)}`);
  return err;
}

describe('PhysicalDiscovery.openDevice', () => {
  it('finds the device by port path (hubs included), unopened; null where nothing is or USB is not visible', async () => {
    const { discovery, source } = bench();
    const device = await discovery.openDevice('1-1.4');
    expect([device?.vendorId, device?.productId, device?.opened]).toEqual([0x303a, 0x4001, false]);
    expect((await discovery.openDevice('1-1'))?.vendorId).toBe(0x110a);
    expect(await discovery.openDevice('1-1.6')).toBeNull();
    source.failure = new Error('getDevices error: /sys/bus/usb/devices/ not found (errno 2)');
    expect(await discovery.openDevice('1-1.4')).toBeNull();
  });

  it('reads descriptors and strings through the package without claiming anything', async () => {
    const { discovery, clock, board } = bench();
    const summary = await (await viewOf(discovery, clock)).summary();
    expect([summary.manufacturer, summary.product, summary.serialNumber]).toEqual(['Espressif Systems', 'Espressif Device', 'f412fa4b5c3d']);
    expect(summary.functions.map((fn) => fn.name)).toEqual(['Board CDC', 'Loopback']);
    expect(board.claimed.size).toBe(0);
  });

  it('turns the package\'s rejected stall into a stall status, and sends requests without data with an empty data stage', async () => {
    const { discovery, clock, board } = bench();
    const view = await viewOf(discovery, clock);
    const echo = { requestType: 'vendor', recipient: 'device', request: ECHO_REQUEST, value: 0, index: 0 } as const;
    expect((await view.controlIn({ ...echo, request: 0x09 }, 8)).status).toBe('stall');
    const device = (await discovery.openDevice('1-1.4'))!;
    await device.open();
    expect(await device.controlTransferOut(echo)).toEqual({ status: 'ok', bytesWritten: 0 });
    expect(board.outData.at(-1)).toBeInstanceOf(Uint8Array);
  });

  it('refuses transfers before the interface is claimed, and says a kernel driver may own a refused interface', async () => {
    const { discovery, clock } = bench();
    const view = await viewOf(discovery, clock);
    const unclaimed = await failure(view.bulkOut(BOARD_BULK_OUT, Uint8Array.of(1)));
    expect(unclaimed.evidence).toMatchObject({ transferError: 'InvalidStateError' });
    const busy = await failure(view.claimInterface(0));
    expect(busy.message).toMatch(/claim interface 0 failed: NetworkError: Unable to claim interface 0: claimInterface error: Device or resource busy \(os error 16\).*kernel driver such as cdc_acm/);
  });

  it('loops bulk data back, waiting for IN data past the package\'s transfer timeout', async () => {
    const { discovery, clock, board, gadget } = bench();
    const view = await viewOf(discovery, clock);
    await view.claimInterface(BOARD_VENDOR_INTERFACE);
    expect((await view.bulkOut(BOARD_BULK_OUT, Uint8Array.of(5, 6))).bytesWritten).toBe(2);
    expect([...(await view.bulkIn(BOARD_BULK_IN, 64)).data]).toEqual([5, 6]);

    const read = view.bulkIn(BOARD_BULK_IN, 64, { timeoutMs: 10_000 });
    await flushTasks();
    clock.advance(1000); // the package cancels its transfer here; WebUSB would still be waiting
    await flushTasks();
    clock.advance(1000);
    await flushTasks();
    expect(board.pendingTransfers).toBe(1);
    gadget.send(BOARD_BULK_IN, Uint8Array.of(7));
    expect([...(await read).data]).toEqual([7]);
    expect(board.transferTimeouts.slice(-3)).toEqual([1000, 1000, 1000]);
  });

  it('reports a stalled endpoint as a status and a device that went as gone', async () => {
    const { discovery, clock, gadget } = bench();
    const view = await viewOf(discovery, clock);
    await view.claimInterface(BOARD_VENDOR_INTERFACE);
    gadget.stalled.add(BOARD_BULK_IN);
    expect((await view.bulkIn(BOARD_BULK_IN, 64)).status).toBe('stall');
    gadget.stalled.clear();
    const read = view.bulkIn(BOARD_BULK_IN, 64);
    await flushTasks();
    gadget.unplug();
    const gone = await failure(read);
    expect(gone.message).toMatch(/^1-1\.4: bulk IN 0x83 \(EP 3 IN\) failed: the device has gone .*the device was disconnected \(transferIn error: Disconnected\)/);
  });

  it('releases the claims on close (the package keeps them) and ends a pending read with AbortError', async () => {
    const { discovery, board } = bench();
    const device = (await discovery.openDevice('1-1.4'))!;
    await device.open();
    await device.claimInterface(BOARD_VENDOR_INTERFACE);
    const read = device.transferIn(3, 64);
    await flushTasks();
    await device.close();
    await expect(read).rejects.toMatchObject({ name: 'AbortError' });
    expect([board.opened, board.claimed.size]).toEqual([false, 0]);
  });
});
