/**
 * One contract for the simulated hub's control device, run in process (the lab's own `discovery`) and
 * over loopback (RemoteLabDiscovery against the lab's control server): an attached `hil run` must see
 * exactly the WebUSB behaviour the lab's owner sees.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BenchDiscovery } from '../../../runner/bench/usb-discovery.ts';
import { LabControlServer } from '../../../sim/control/lab-control-server.ts';
import { RemoteLabDiscovery } from '../../../sim/control/remote-lab-discovery.ts';
import { PortFeature } from '../../../sim/usb/hub-protocol.ts';
import { LabDiscovery } from '../../../sim/usb/lab-discovery.ts';
import { SimUsbHub } from '../../../sim/usb/sim-usb-hub.ts';
import { bytesOf, clearPortFeature, portStatus, send, setPortFeature } from '../usb/hub-requests.ts';
import { enumeratedHubWithBridgeBoard, type FakeClock, type FakeUsbDevice } from '../usb/usb-fakes.ts';

interface Fixture {
  clock: FakeClock;
  hub: SimUsbHub;
  board: FakeUsbDevice;
  discovery: BenchDiscovery;
  close(): Promise<void>;
}

function hubWithBoard(): { clock: FakeClock; hub: SimUsbHub; board: FakeUsbDevice; local: LabDiscovery } {
  const { discovery, ...rest } = enumeratedHubWithBridgeBoard();
  return { ...rest, local: discovery };
}

const variants: Record<string, () => Promise<Fixture>> = {
  'in process': async () => {
    const { clock, hub, board, local } = hubWithBoard();
    return { clock, hub, board, discovery: local, close: () => local.close() };
  },
  'over loopback': async () => {
    const { clock, hub, board, local } = hubWithBoard();
    const server = await LabControlServer.listen(local);
    const remote = new RemoteLabDiscovery(server.url);
    return { clock, hub, board, discovery: remote, close: async () => { await remote.close(); await server.close(); } };
  },
};

for (const [name, start] of Object.entries(variants)) {
  describe(`hub control device contract (${name})`, () => {
    let fixture: Fixture | undefined;
    afterEach(async () => {
      await fixture?.close();
      fixture = undefined;
    });

    it('is found by port path (null where no hub is), closed at first, and needs open() before transfers', async () => {
      fixture = await start();
      expect(await fixture.discovery.openHub('1-9')).toBeNull();
      expect(await fixture.discovery.openHub('1-1.3')).toBeNull(); // a board, not a hub
      const control = (await fixture.discovery.openHub('1-1'))!;
      expect([control.vendorId, control.productId, control.opened]).toEqual([0x2001, 0xf103, false]);
      await expect(send(control, 'a3 00 00 00 03 00 04 00')).rejects.toMatchObject({ name: 'InvalidStateError' });
      await control.open();
      expect(control.opened).toBe(true);
      await control.close();
      expect(control.opened).toBe(false);
      await expect(send(control, '23 03 08 00 03 00 00 00')).rejects.toMatchObject({ name: 'InvalidStateError' });
    });

    it('answers IN requests cut to the requested length, and stalls what the hub does not support', async () => {
      fixture = await start();
      const control = (await fixture.discovery.openHub('1-1'))!;
      await control.open();
      const descriptor = await send(control, 'a0 06 00 29 00 00 04 00'); // GetHubDescriptor, 4 of its 9 bytes
      expect(descriptor.status).toBe('ok');
      expect(bytesOf(descriptor)).toEqual([9, 0x29, 7, 0x09]); // bLength, type, 7 ports, individual switching
      expect(await portStatus(control, 3)).toEqual({ status: 0x0103, change: 0x0001 }); // connected, enabled, powered
      const stalled = await send(control, 'a3 00 00 00 08 00 04 00'); // port 8 of a 7-port hub
      expect(stalled).toEqual({ status: 'stall', data: undefined });
      // An OUT data stage travels too: the hub stalls a SetPortFeature that carries one.
      const withData = await control.controlTransferOut({ requestType: 'class', recipient: 'other', request: 3, value: 8, index: 3 }, Uint8Array.of(1, 2));
      expect(withData).toEqual({ status: 'stall', bytesWritten: 0 });
      await expect(control.controlTransferIn({ requestType: 'class', recipient: 'other', request: 0, value: 0, index: 3 }, 70_000))
        .rejects.toBeInstanceOf(TypeError);
    });

    it('switches port power: the board loses power at once and comes back after power-good', async () => {
      fixture = await start();
      const { board, clock } = fixture;
      const control = (await fixture.discovery.openHub('1-1'))!;
      await control.open();
      expect(await clearPortFeature(control, PortFeature.PORT_POWER, 3)).toEqual({ status: 'ok', bytesWritten: 0 });
      expect(board.state).toBe('off');
      expect(await portStatus(control, 3)).toMatchObject({ status: 0 });
      expect((await setPortFeature(control, PortFeature.PORT_POWER, 3)).status).toBe('ok');
      clock.advance(100);
      expect(board.state).toBe('on');
    });

    it('rejects with NotFoundError once the hub is gone, and is no longer opened', async () => {
      fixture = await start();
      const control = (await fixture.discovery.openHub('1-1'))!;
      await control.open();
      fixture.hub.dispose();
      await expect(portStatus(control, 3)).rejects.toMatchObject({ name: 'NotFoundError' });
      expect(control.opened).toBe(false);
      await expect(control.open()).rejects.toMatchObject({ name: 'NotFoundError' });
      expect(await fixture.discovery.openHub('1-1')).toBeNull();
    });
  });
}
