/**
 * The host-side view of a running SimLab's native-USB board, from the lab's own discovery and from
 * another process's RemoteLabDiscovery: the same descriptors and strings, the CDC interfaces refused
 * because the (simulated) kernel's cdc_acm holds them, and a handle that is gone once the board has
 * been power-cycled and re-enumerated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubPortPower } from '../../../runner/usb/hub-port-power.ts';
import { UsbDeviceView } from '../../../runner/usb/usb-device-view.ts';
import { RemoteLabDiscovery } from '../../../sim/control/remote-lab-discovery.ts';
import { SimLab } from '../../../sim/sim-lab.ts';
import { fakeHostFactory } from '../board/fake-micropython-host.ts';

describe('UsbDeviceView on a SimLab board', () => {
  let lab: SimLab;
  let remote: RemoteLabDiscovery;
  beforeAll(async () => {
    lab = await SimLab.start({
      boards: [{ id: 's1', chip: 'esp32s3', portPath: '1-1.1', flashSizeBytes: 16 * 2 ** 20, psramBytes: 0, usb: 'native', mac: '7c:df:a1:00:00:02' }],
      stateDir: undefined, stockFirmwareVersion: 'v1.24.1', speedFactor: 0, createHost: fakeHostFactory().create,
    });
    remote = new RemoteLabDiscovery(lab.usbControlUrl);
  });
  afterAll(async () => {
    await remote.close();
    await lab.close();
  });

  it('reads the same descriptors over the control server as in process, and is refused the interfaces cdc_acm holds', async () => {
    const local = new UsbDeviceView((await lab.discovery.openDevice('1-1.1'))!, { portPath: '1-1.1' });
    const attached = new UsbDeviceView((await remote.openDevice('1-1.1'))!, { portPath: '1-1.1' });
    try {
      const summary = await attached.summary();
      expect(summary).toEqual(await local.summary());
      expect(summary.functions.map((fn) => [fn.functionClass, fn.interfaces.map((itf) => itf.number)])).toEqual([[0x02, [0, 1]]]);
      expect(await attached.problems()).toEqual([]);
      const refused = await attached.claimInterface(1).then(() => null, (err: unknown) => err);
      expect(refused).toMatchObject({ code: 'USB_TRANSFER_FAILED', evidence: { transferError: 'NetworkError', interfaceNumber: 1 } });
      expect((refused as Error).message).toMatch(/Unable to claim interface 1: .*cdc_acm/);
    } finally {
      await local.close();
      await attached.close();
    }
  });

  it('is gone for good once the board has re-enumerated', async () => {
    const device = (await remote.openDevice('1-1.1'))!;
    await device.open();
    const power = new HubPortPower((await remote.openHub('1-1'))!, { hubPath: '1-1' });
    try {
      await power.setPortPower(1, false);
      await expect(device.controlTransferIn({ requestType: 'standard', recipient: 'device', request: 6, value: 0x0100, index: 0 }, 18))
        .rejects.toMatchObject({ name: 'NotFoundError' });
      expect(await remote.openDevice('1-1.1')).toBeNull();
    } finally {
      await power.setPortPower(1, true);
      await power.close();
    }
  });
});
