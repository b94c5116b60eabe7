import { describe, expect, it } from 'vitest';
import type { UsbHotplugEvent } from '../../../runner/bench/usb-discovery.ts';
import { LabDiscovery } from '../../../sim/usb/lab-discovery.ts';
import { SimUsbHub } from '../../../sim/usb/sim-usb-hub.ts';
import { UsbHostNumbering } from '../../../sim/usb/usb-host-numbering.ts';
import type { SimUsbHotplugEvent } from '../../../sim/usb/sim-hotplug-event.ts';
import { controllerOnHub, runtimeConfig, summary, vendorFunction } from '../usbd/usbd-fixture.ts';
import { CDC, CP2104, FakeClock, FakeUsbDevice } from './usb-fakes.ts';

function twoHubs() {
  const clock = new FakeClock();
  const numbering = new UsbHostNumbering();
  const hubs = [new SimUsbHub({ portPath: '1-1', ports: 4, clock, numbering }), new SimUsbHub({ portPath: '1-2', ports: 4, clock, numbering })];
  hubs[0]!.attach(1, new FakeUsbDevice(CDC), { url: 'a' });
  hubs[1]!.attach(2, new FakeUsbDevice(CP2104), { url: 'b' });
  return { clock, hubs, discovery: new LabDiscovery(hubs) };
}

describe('LabDiscovery', () => {
  it('lists every hub with its devices and merges their hot-plug events', async () => {
    const { clock, hubs, discovery } = twoHubs();
    const events: UsbHotplugEvent[] = [];
    discovery.onHotplug((event) => events.push(event));
    for (const hub of hubs) hub.powerOnAllPorts();
    clock.advance(220);
    expect(events.map((e) => (e.type === 'attach' ? e.device.portPath : e.portPath))).toEqual(['1-1.1', '1-2.2']);
    expect((await discovery.list()).devices.map((d) => `${d.portPath}${d.isHub ? ' hub' : ''}`)).toEqual(['1-1 hub', '1-1.1', '1-2 hub', '1-2.2']);
  });

  it('opens a hub by port path, null for a path without a hub or a hub that is gone', async () => {
    const { hubs, discovery } = twoHubs();
    const control = await discovery.openHub('1-2');
    expect(control?.vendorId).toBe(0x2001);
    expect(await discovery.openHub('1-1.1')).toBeNull();
    hubs[0]!.dispose();
    expect(await discovery.openHub('1-1')).toBeNull();
  });

  it('close drops the subscriptions made so far and leaves the shared instance usable', async () => {
    const { clock, hubs, discovery } = twoHubs();
    const before: UsbHotplugEvent[] = [];
    discovery.onHotplug((event) => before.push(event));
    await discovery.close();
    await discovery.close();
    const after: UsbHotplugEvent[] = [];
    discovery.onHotplug((event) => after.push(event));
    hubs[0]!.powerOnAllPorts();
    clock.advance(220);
    expect(before).toEqual([]);
    expect(after).toHaveLength(1);
  });

  it('opens devices that present descriptors; identity-only devices and empty ports give null', async () => {
    const { clock, hubs, discovery } = twoHubs();
    for (const hub of hubs) hub.powerOnAllPorts();
    clock.advance(220);
    expect(await discovery.openDevice('1-2.2')).toBeNull();
    expect(await discovery.openDevice('1-1.3')).toBeNull();
    const lab = controllerOnHub();
    lab.firmware.connect('cdc', null);
    lab.clock.advance(120);
    const device = await lab.discovery.openDevice('1-1.2');
    expect([device?.vendorId, device?.productId, device?.opened]).toEqual([0x303a, 0x4001, false]);
  });

  it('reports a refused enumeration to bench and lab listeners, with no attach', async () => {
    const { clock, firmware, discovery } = controllerOnHub();
    const bench: UsbHotplugEvent[] = [];
    const lab: SimUsbHotplugEvent[] = [];
    discovery.onHotplug((event) => bench.push(event));
    discovery.onLabHotplug((event) => lab.push(event));
    firmware.connect('cdc', runtimeConfig('cdc', [vendorFunction(2, 3)], { declared: { numInterfaces: 2 } }));
    clock.advance(120);
    expect(lab.map(summary)).toEqual(['enumeration-failed num-interfaces-mismatch']);
    expect(bench.map(summary)).toEqual(['enumeration-failed num-interfaces-mismatch']);
    bench.splice(0);
    firmware.connect('cdc', null);
    clock.advance(120);
    expect(bench.map(summary)).toEqual(['attach 303a:4001 addr 4 ttyACM0']);
  });
});
