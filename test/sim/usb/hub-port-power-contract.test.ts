/**
 * The runner's hub port power code against the simulated hub: the same requests it sends to a physical
 * hub must switch a simulated board, and the simulated hub's descriptor must tell it which hubs it may
 * switch (individual only) and which "switch" nothing (no switching: the power bit never follows).
 */
import { describe, expect, it } from 'vitest';
import { HubPortPower } from '../../../runner/usb/hub-port-power.ts';
import { SimUsbHub } from '../../../sim/usb/sim-usb-hub.ts';
import { CP2104, FakeClock, FakeUsbDevice } from './usb-fakes.ts';

describe('runner HubPortPower on the simulated hub', () => {
  it('reads the descriptor and switches one port of an individually switched hub', async () => {
    const hub = new SimUsbHub({ portPath: '1-1', ports: 7, clock: new FakeClock() });
    const board = new FakeUsbDevice(CP2104);
    const neighbour = new FakeUsbDevice(CP2104);
    hub.attach(3, board);
    hub.attach(4, neighbour);
    hub.powerOnAllPorts();
    const power = new HubPortPower(hub.controlDevice(), { hubPath: '1-1' });
    await power.open();
    expect(await power.readDescriptor()).toMatchObject({ ports: 7, powerSwitching: 'individual', overCurrent: 'individual', powerOnToPowerGoodMs: 100 });
    await power.setPortPower(3, false);
    expect(board.state).toBe('off');
    expect(hub.isPortPowered(3)).toBe(false);
    expect(hub.isPortPowered(4)).toBe(true);
    expect(await power.portStatus(3)).toMatchObject({ powered: false, connected: false });
    await power.setPortPower(3, true);
    expect(hub.isPortPowered(3)).toBe(true);
    await power.close();
  });

  it('is refused on a ganged hub and on a hub without power switching', async () => {
    for (const powerSwitching of ['ganged', 'none'] as const) {
      const hub = new SimUsbHub({ portPath: '1-1', ports: 4, powerSwitching, clock: new FakeClock() });
      const power = new HubPortPower(hub.controlDevice(), { hubPath: '1-1' });
      await power.open();
      await expect(power.setPortPower(1, false)).rejects.toMatchObject({ code: 'HUB_NO_PORT_POWER' });
      await power.close();
    }
  });

  it('names a port the hub lacks as bad usage', async () => {
    const hub = new SimUsbHub({ portPath: '1-1', ports: 4, clock: new FakeClock() });
    const power = new HubPortPower(hub.controlDevice(), { hubPath: '1-1' });
    await power.open();
    await expect(power.setPortPower(5, true)).rejects.toMatchObject({ code: 'USAGE' });
  });
});
