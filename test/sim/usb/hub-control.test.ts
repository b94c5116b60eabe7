import { describe, expect, it } from 'vitest';
import { PortFeature } from '../../../sim/usb/hub-protocol.ts';
import { SimUsbHub, type SimUsbHubOptions } from '../../../sim/usb/sim-usb-hub.ts';
import type { SimUsbHotplugEvent } from '../../../sim/usb/sim-hotplug-event.ts';
import { CDC, CP2104, FakeClock, FakeUsbDevice } from './usb-fakes.ts';
import { bytesOf, clearPortFeature, portStatus, send, setPortFeature } from './hub-requests.ts';

const CONNECTION = 0x0001;
const ENABLE = 0x0002;
const SUSPEND = 0x0004;
const RESET = 0x0010;
const POWER = 0x0100;
const LOW_SPEED = 0x0200;
const HIGH_SPEED = 0x0400;
const C_CONNECTION = 0x0001;
const C_SUSPEND = 0x0004;
const C_RESET = 0x0010;

async function openedHub(options: Partial<SimUsbHubOptions> = {}) {
  const clock = new FakeClock();
  const hub = new SimUsbHub({ portPath: '1-1', ports: 7, clock, ...options });
  const events: SimUsbHotplugEvent[] = [];
  hub.onHotplug((event) => events.push(event));
  const control = hub.controlDevice();
  await control.open();
  return { clock, hub, control, events };
}

describe('SimUsbHub control device (WebUSB semantics)', () => {
  it('must be opened first, and reports the hub\'s VID:PID', async () => {
    const hub = new SimUsbHub({ portPath: '1-1', ports: 7, clock: new FakeClock() });
    const control = hub.controlDevice();
    expect([control.vendorId, control.productId, control.opened]).toEqual([0x2001, 0xf103, false]);
    await expect(send(control, 'a3 00 00 00 01 00 04 00')).rejects.toMatchObject({ name: 'InvalidStateError' });
    await control.open();
    expect(control.opened).toBe(true);
    expect((await send(control, 'a3 00 00 00 01 00 04 00')).status).toBe('ok');
    await control.close();
    await expect(send(control, '23 03 08 00 01 00 00 00')).rejects.toMatchObject({ name: 'InvalidStateError' });
  });

  it('stalls requests it does not support instead of throwing', async () => {
    const { control } = await openedHub();
    const stalls = [
      'a3 00 00 00 00 00 04 00', // GetPortStatus port 0
      'a3 00 00 00 08 00 04 00', // port 8 of a 7-port hub
      '23 03 08 00 00 00 00 00', // SetPortFeature(PORT_POWER) port 0
      '23 01 08 00 08 00 00 00', // ClearPortFeature(PORT_POWER) port 8
      '23 03 16 00 01 00 00 00', // SetPortFeature(PORT_INDICATOR): the hub has no indicators
      '23 03 00 00 01 00 00 00', // SetPortFeature(PORT_CONNECTION) is not settable
      'a0 06 00 2a 00 00 0c 00', // SuperSpeed hub descriptor from a USB 2.0 hub
      '80 06 00 01 00 00 12 00', // standard GET_DESCRIPTOR: not a hub class request
      '20 03 01 00 00 00 00 00', // SetHubFeature(C_HUB_OVER_CURRENT)
      '23 00 00 00 01 00 00 00', // GET_STATUS sent host-to-device
    ];
    for (const request of stalls) expect((await send(control, request)).status, request).toBe('stall');
    expect(bytesOf(await send(control, 'a0 00 00 00 00 00 04 00'))).toEqual([0, 0, 0, 0]); // GetHubStatus
    expect((await send(control, '20 01 00 00 00 00 00 00')).status).toBe('ok'); // ClearHubFeature(C_HUB_LOCAL_POWER)
  });

  it('reports a port\'s power, connection and enable bits as power changes', async () => {
    const { clock, hub, control } = await openedHub();
    const device = new FakeUsbDevice(CP2104);
    hub.attach(2, device, { url: 'rfc2217://127.0.0.1:4001' });
    expect(await portStatus(control, 2)).toEqual({ status: 0, change: 0 });
    expect(device.state).toBe('off');

    expect((await setPortFeature(control, PortFeature.PORT_POWER, 2)).status).toBe('ok');
    expect(await portStatus(control, 2)).toEqual({ status: POWER, change: 0 }); // waiting for power-good
    clock.advance(100);
    expect(device.state).toBe('on');
    expect(await portStatus(control, 2)).toEqual({ status: POWER | CONNECTION, change: C_CONNECTION }); // debouncing
    clock.advance(120);
    expect(await portStatus(control, 2)).toEqual({ status: POWER | CONNECTION | ENABLE, change: C_CONNECTION });
    expect((await clearPortFeature(control, PortFeature.C_PORT_CONNECTION, 2)).status).toBe('ok');
    expect(await portStatus(control, 2)).toEqual({ status: POWER | CONNECTION | ENABLE, change: 0 });

    expect((await clearPortFeature(control, PortFeature.PORT_POWER, 2)).status).toBe('ok');
    expect(device.state).toBe('off');
    expect(await portStatus(control, 2)).toEqual({ status: 0, change: C_CONNECTION });
    // Other ports were never touched.
    expect(await portStatus(control, 1)).toEqual({ status: 0, change: 0 });
  });

  it('powers an empty port without complaint', async () => {
    const { control, hub } = await openedHub();
    expect((await setPortFeature(control, PortFeature.PORT_POWER, 7)).status).toBe('ok');
    expect(await portStatus(control, 7)).toEqual({ status: POWER, change: 0 });
    expect(hub.isPortPowered(7)).toBe(true);
  });

  it('shows low- and high-speed devices in bits 9 and 10 (full speed shows neither)', async () => {
    const { clock, hub, control } = await openedHub();
    hub.attach(1, new FakeUsbDevice(CP2104, 'low'));
    hub.attach(2, new FakeUsbDevice(CP2104, 'high'));
    hub.attach(3, new FakeUsbDevice(CP2104, 'full'));
    hub.powerOnAllPorts();
    clock.advance(1000);
    expect(await portStatus(control, 1)).toMatchObject({ status: POWER | CONNECTION | ENABLE | LOW_SPEED });
    expect(await portStatus(control, 2)).toMatchObject({ status: POWER | CONNECTION | ENABLE | HIGH_SPEED });
    expect(await portStatus(control, 3)).toMatchObject({ status: POWER | CONNECTION | ENABLE });
  });

  it('ganged: a power request on one port switches every port', async () => {
    const { clock, hub, control } = await openedHub({ powerSwitching: 'ganged', ports: 4 });
    const a = new FakeUsbDevice(CP2104);
    const b = new FakeUsbDevice(CDC);
    hub.attach(1, a);
    hub.attach(3, b);
    await setPortFeature(control, PortFeature.PORT_POWER, 3);
    for (const port of [1, 2, 3, 4]) expect(hub.isPortPowered(port)).toBe(true);
    clock.advance(100);
    expect([a.state, b.state]).toEqual(['on', 'on']);
    await clearPortFeature(control, PortFeature.PORT_POWER, 1);
    for (const port of [1, 2, 3, 4]) expect(await portStatus(control, port)).toMatchObject({ status: 0 });
    expect([a.state, b.state]).toEqual(['off', 'off']);
  });

  it('none: power requests are accepted but VBUS never changes', async () => {
    const { clock, hub, control, events } = await openedHub({ powerSwitching: 'none' });
    const device = new FakeUsbDevice(CP2104);
    hub.attach(4, device);
    expect(device.state).toBe('on'); // a live port: no switch to wait for
    clock.advance(120);
    expect((await clearPortFeature(control, PortFeature.PORT_POWER, 4)).status).toBe('ok');
    expect((await setPortFeature(control, PortFeature.PORT_POWER, 4)).status).toBe('ok');
    expect(await portStatus(control, 4)).toEqual({ status: POWER | CONNECTION | ENABLE, change: C_CONNECTION });
    expect(device.powerOffCount).toBe(0);
    expect(events.map((event) => event.type)).toEqual(['attach']);
  });

  it('PORT_RESET shows the reset bit, then enables the port and sets C_PORT_RESET', async () => {
    const { clock, hub, control } = await openedHub();
    hub.attach(1, new FakeUsbDevice(CP2104));
    await setPortFeature(control, PortFeature.PORT_POWER, 1);
    clock.advance(220);
    await setPortFeature(control, PortFeature.PORT_RESET, 1);
    expect(await portStatus(control, 1)).toMatchObject({ status: POWER | CONNECTION | ENABLE | RESET });
    clock.advance(10);
    expect(await portStatus(control, 1)).toEqual({ status: POWER | CONNECTION | ENABLE, change: C_CONNECTION | C_RESET });
    await clearPortFeature(control, PortFeature.C_PORT_RESET, 1);
    expect(await portStatus(control, 1)).toMatchObject({ change: C_CONNECTION });
  });

  it('suspends and resumes an enabled port', async () => {
    const { clock, hub, control } = await openedHub();
    hub.attach(1, new FakeUsbDevice(CP2104));
    await setPortFeature(control, PortFeature.PORT_POWER, 1);
    clock.advance(220);
    await clearPortFeature(control, PortFeature.C_PORT_CONNECTION, 1);
    await setPortFeature(control, PortFeature.PORT_SUSPEND, 1);
    expect(await portStatus(control, 1)).toEqual({ status: POWER | CONNECTION | ENABLE | SUSPEND, change: 0 });
    await clearPortFeature(control, PortFeature.PORT_SUSPEND, 1);
    expect(await portStatus(control, 1)).toEqual({ status: POWER | CONNECTION | ENABLE, change: C_SUSPEND });
  });

  it('disabling a port loses the device until a port reset enumerates it again', async () => {
    const { clock, hub, control, events } = await openedHub();
    hub.attach(1, new FakeUsbDevice(CP2104), { url: 'rfc2217://x:1' });
    await setPortFeature(control, PortFeature.PORT_POWER, 1);
    clock.advance(220);
    await clearPortFeature(control, PortFeature.PORT_ENABLE, 1);
    expect(await portStatus(control, 1)).toMatchObject({ status: POWER | CONNECTION });
    expect(events.map((event) => event.type)).toEqual(['attach', 'detach']);
    clock.advance(1000);
    expect(hub.list()).toHaveLength(1); // only the hub
    await setPortFeature(control, PortFeature.PORT_RESET, 1);
    clock.advance(10 + 120);
    expect(events.map((event) => event.type)).toEqual(['attach', 'detach', 'attach']);
    expect(await portStatus(control, 1)).toMatchObject({ status: POWER | CONNECTION | ENABLE });
  });

  it('answers NotFoundError once the hub is gone', async () => {
    const { hub, control } = await openedHub();
    hub.dispose();
    expect(control.opened).toBe(false);
    await expect(send(control, 'a3 00 00 00 01 00 04 00')).rejects.toMatchObject({ name: 'NotFoundError' });
    await expect(hub.controlDevice().open()).rejects.toMatchObject({ name: 'NotFoundError' });
  });
});
