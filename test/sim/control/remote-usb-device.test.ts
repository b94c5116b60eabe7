/**
 * A device of the virtual lab seen from another process: RemoteLabDiscovery.openDevice against the
 * control server, driven through the host-side view. One contract runs in process (the discovery's
 * own device) and over loopback, so an attached `hil run` sees the same WebUSB behaviour as the lab's
 * owner; then what only the remote handle has — closing ends its long polls, a re-enumerated device
 * stays gone, an unreachable lab.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BenchDiscovery } from '../../../runner/bench/usb-discovery.ts';
import { isHilError, type HilError } from '../../../runner/errors.ts';
import { expectOk, UsbDeviceView } from '../../../runner/usb/usb-device-view.ts';
import { LabControlServer } from '../../../sim/control/lab-control-server.ts';
import { RemoteLabDiscovery } from '../../../sim/control/remote-lab-discovery.ts';
import { BOARD_BULK_IN, BOARD_BULK_OUT, BOARD_VENDOR_INTERFACE, boardGadgetSpec, ECHO_REQUEST } from '../../bench/fake-board-gadget.ts';
import { FakeUsbGadget } from '../../bench/fake-usb-gadget.ts';
import { flushTasks, ManualClock } from '../../repl/manual-clock.ts';
import { FakeDeviceDiscovery } from './fake-device-discovery.ts';

interface Fixture {
  gadget: FakeUsbGadget;
  lab: FakeDeviceDiscovery;
  discovery: BenchDiscovery;
  close(): Promise<void>;
}

const variants: Record<string, () => Promise<Fixture>> = {
  'in process': async () => {
    const gadget = new FakeUsbGadget(boardGadgetSpec());
    const lab = new FakeDeviceDiscovery({ '1-1.4': gadget });
    return { gadget, lab, discovery: lab, close: () => lab.close() };
  },
  'over loopback': async () => {
    const gadget = new FakeUsbGadget(boardGadgetSpec());
    const lab = new FakeDeviceDiscovery({ '1-1.4': gadget });
    const server = await LabControlServer.listen(lab);
    const remote = new RemoteLabDiscovery(server.url);
    return { gadget, lab, discovery: remote, close: async () => { await remote.close(); await server.close(); } };
  },
};

const ECHO = { requestType: 'vendor', recipient: 'device', request: ECHO_REQUEST, value: 0, index: 0 } as const;

let fixture: Fixture | undefined;
const views: UsbDeviceView[] = [];
afterEach(async () => {
  for (const view of views.splice(0)) await view.close();
  await fixture?.close();
  fixture = undefined;
});

async function viewOf(discovery: BenchDiscovery, clock?: ManualClock): Promise<UsbDeviceView> {
  const device = await discovery.openDevice('1-1.4');
  if (device === null) throw new Error('no device at 1-1.4');
  const view = new UsbDeviceView(device, { portPath: '1-1.4', ...(clock === undefined ? {} : { clock }) });
  views.push(view);
  return view;
}

async function failure(promise: Promise<unknown>): Promise<HilError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  if (!isHilError(err)) throw new Error(`expected a HilError, got ${String(err)}`);
  return err;
}

async function untilReadWaits(gadget: FakeUsbGadget): Promise<void> {
  while (gadget.waitingReads(BOARD_BULK_IN) === 0) await new Promise((resolve) => setImmediate(resolve));
}

for (const [name, start] of Object.entries(variants)) {
  describe(`USB device contract (${name})`, () => {
    it('is found by port path (null where nothing is), closed at first, and needs open() before transfers', async () => {
      fixture = await start();
      expect(await fixture.discovery.openDevice('1-1.9')).toBeNull();
      const device = (await fixture.discovery.openDevice('1-1.4'))!;
      expect([device.vendorId, device.productId, device.opened]).toEqual([0x303a, 0x4001, false]);
      await expect(device.controlTransferIn(ECHO, 4)).rejects.toMatchObject({ name: 'InvalidStateError' });
      await device.open();
      expect(device.opened).toBe(true);
      await device.close();
      expect(device.opened).toBe(false);
    });

    it('gives its descriptors and strings to the view: summary and problems', async () => {
      fixture = await start();
      const view = await viewOf(fixture.discovery);
      const summary = await view.summary();
      expect([summary.manufacturer, summary.serialNumber, summary.functions.map((fn) => fn.name)])
        .toEqual(['Espressif Systems', 'f412fa4b5c3d', ['Board CDC', 'Loopback']]);
      expect(await view.problems()).toEqual([]);
    });

    it('round-trips a vendor request and reports a stall as a status', async () => {
      fixture = await start();
      const view = await viewOf(fixture.discovery);
      expectOk(await view.controlOut(ECHO, Uint8Array.of(4, 5, 6)));
      expect([...(await view.controlIn(ECHO, 16)).data]).toEqual([4, 5, 6]);
      expect((await view.controlIn({ ...ECHO, request: 0x7f }, 16)).status).toBe('stall');
      expect((await view.controlOut({ ...ECHO, request: 0x7f })).status).toBe('stall');
    });

    it('refuses endpoints before their interface is claimed, then loops bulk data back', async () => {
      fixture = await start();
      const view = await viewOf(fixture.discovery);
      expect((await failure(view.bulkOut(BOARD_BULK_OUT, Uint8Array.of(1)))).evidence).toMatchObject({ transferError: 'InvalidStateError' });
      await view.claimInterface(BOARD_VENDOR_INTERFACE);
      const payload = Uint8Array.from({ length: 64 }, (_, i) => 255 - i);
      expect((await view.bulkOut(BOARD_BULK_OUT, payload)).bytesWritten).toBe(64);
      expect([...(await view.bulkIn(BOARD_BULK_IN, 64)).data]).toEqual([...payload]);
      fixture.gadget.stalled.add(BOARD_BULK_IN);
      expect((await view.bulkIn(BOARD_BULK_IN, 64)).status).toBe('stall');
    });

    it('waits for IN data that comes later', async () => {
      fixture = await start();
      const view = await viewOf(fixture.discovery);
      await view.claimInterface(BOARD_VENDOR_INTERFACE);
      const read = view.bulkIn(BOARD_BULK_IN, 64);
      await untilReadWaits(fixture.gadget);
      fixture.gadget.send(BOARD_BULK_IN, Uint8Array.of(0xca, 0xfe));
      expect([...(await read).data]).toEqual([0xca, 0xfe]);
    });

    it('hands bytes that arrive after a read timed out to the next read', async () => {
      fixture = await start();
      const clock = new ManualClock();
      const view = await viewOf(fixture.discovery, clock);
      await view.claimInterface(BOARD_VENDOR_INTERFACE);
      const read = view.bulkIn(BOARD_BULK_IN, 64, { timeoutMs: 300 });
      await untilReadWaits(fixture.gadget);
      clock.advance(300);
      expect((await failure(read)).message).toBe('1-1.4: bulk IN 0x83 (EP 3 IN): no answer within 300 ms');
      fixture.gadget.send(BOARD_BULK_IN, Uint8Array.of(1));
      expect([...(await view.bulkIn(BOARD_BULK_IN, 64)).data]).toEqual([1]);
      expect(fixture.gadget.waitingReads(BOARD_BULK_IN)).toBe(0);
    });

    it('rejects a waiting read with NotFoundError when the device goes, and stays gone', async () => {
      fixture = await start();
      const device = (await fixture.discovery.openDevice('1-1.4'))!;
      await device.open();
      await device.claimInterface(BOARD_VENDOR_INTERFACE);
      const read = device.transferIn(BOARD_BULK_IN & 0x0f, 64);
      await untilReadWaits(fixture.gadget);
      fixture.lab.unplug('1-1.4');
      await expect(read).rejects.toMatchObject({ name: 'NotFoundError' });
      expect(device.opened).toBe(false);
      await expect(device.open()).rejects.toMatchObject({ name: 'NotFoundError' });
      expect(await fixture.discovery.openDevice('1-1.4')).toBeNull();
    });
  });
}

describe('RemoteUsbDevice', () => {
  async function serve() {
    const gadget = new FakeUsbGadget(boardGadgetSpec());
    const lab = new FakeDeviceDiscovery({ '1-1.4': gadget });
    const server = await LabControlServer.listen(lab);
    const remote = new RemoteLabDiscovery(server.url);
    fixture = { gadget, lab, discovery: remote, close: async () => { await remote.close(); await server.close(); } };
    return { gadget, lab, server, remote };
  }

  it('ends its long polls with AbortError on close and releases what it claimed, which ends the lab\'s read too', async () => {
    const { gadget, lab, remote } = await serve();
    const device = (await remote.openDevice('1-1.4'))!;
    await device.open();
    await device.claimInterface(BOARD_VENDOR_INTERFACE);
    const read = device.transferIn(3, 64).then(() => 'answered', (err: unknown) => err);
    await untilReadWaits(gadget);
    await device.close();
    expect(await read).toMatchObject({ name: 'AbortError' });
    expect(lab.handles[0]!.calls).toContain(`releaseInterface(${BOARD_VENDOR_INTERFACE})`);
    // The lab's handle released the interface, which ends its pending read (WebUSB): nothing is waiting.
    await flushTasks();
    expect(gadget.waitingReads(BOARD_BULK_IN)).toBe(0);
  });

  it('stays gone after its device re-enumerates; a new lookup gets the new one', async () => {
    const { lab, remote } = await serve();
    const old = (await remote.openDevice('1-1.4'))!;
    await old.open();
    lab.unplug('1-1.4');
    lab.plug('1-1.4', new FakeUsbGadget(boardGadgetSpec()));
    await expect(old.controlTransferIn(ECHO, 4)).rejects.toMatchObject({ name: 'NotFoundError', message: expect.stringContaining('1-1.4 has gone') });
    await expect(old.open()).rejects.toMatchObject({ name: 'NotFoundError' });
    const fresh = (await remote.openDevice('1-1.4'))!;
    const view = new UsbDeviceView(fresh, { portPath: '1-1.4' });
    views.push(view);
    expect((await view.readDeviceDescriptor()).vendorId).toBe(0x303a);
  });

  it('reports an unreachable lab: USB_UNAVAILABLE on lookup, NetworkError on transfers', async () => {
    const { server, remote } = await serve();
    const device = (await remote.openDevice('1-1.4'))!;
    await device.open();
    await server.close();
    await expect(device.controlTransferIn(ECHO, 4)).rejects.toMatchObject({ name: 'NetworkError', message: expect.stringContaining('not reachable') });
    await expect(remote.openDevice('1-1.4')).rejects.toMatchObject({ code: 'USB_UNAVAILABLE', message: expect.stringContaining(`virtual lab control at ${server.url} not reachable`) });
  });
});
