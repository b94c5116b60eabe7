import { describe, expect, it } from 'vitest';
import type { SimUsbHotplugEvent } from '../../../sim/usb/sim-hotplug-event.ts';
import { PortFeature } from '../../../sim/usb/hub-protocol.ts';
import { SimUsbHub } from '../../../sim/usb/sim-usb-hub.ts';
import { UsbHostNumbering } from '../../../sim/usb/usb-host-numbering.ts';
import { clearPortFeature, setPortFeature } from './hub-requests.ts';
import { CDC, CP2104, FakeClock, FakeUsbDevice, JTAG } from './usb-fakes.ts';

function hubWithEvents(ports = 7) {
  const clock = new FakeClock();
  const numbering = new UsbHostNumbering();
  const hub = new SimUsbHub({ portPath: '1-1', ports, clock, numbering });
  const events: SimUsbHotplugEvent[] = [];
  hub.onHotplug((event) => events.push(event));
  return { clock, hub, events, numbering };
}

/** `attach 1-1.3 @220 addr 3 ttyACM0 303a:4001` style summaries. */
function summary(event: SimUsbHotplugEvent): string {
  if (event.type === 'detach') return `detach ${event.portPath} @${event.atMs}`;
  if (event.type === 'enumeration-failed') return `enumeration-failed ${event.portPath} @${event.atMs}`;
  const d = event.device;
  return `attach ${d.portPath} @${event.atMs} addr ${d.address} ${d.serial?.ttyPath ?? '-'} ${d.vendorId.toString(16)}:${d.productId.toString(16)}`;
}

describe('SimUsbHub hot-plug', () => {
  it('powers the board after power-good and shows it enumerationDelayMs after it presents an identity', () => {
    const { clock, hub, events } = hubWithEvents();
    const board = new FakeUsbDevice(CP2104);
    hub.attach(3, board, { url: 'rfc2217://127.0.0.1:5003' });
    hub.powerOnAllPorts();
    clock.advance(99);
    expect(board.state).toBe('off');
    clock.advance(1);
    expect(board.state).toBe('on');
    clock.advance(119);
    expect(events).toEqual([]);
    expect(hub.list().map((d) => d.portPath)).toEqual(['1-1']);
    clock.advance(1);
    expect(events.map(summary)).toEqual(['attach 1-1.3 @220 addr 3 ttyUSB0 10c4:ea60']);
    expect(hub.list()).toEqual([
      { portPath: '1-1', address: 2, vendorId: 0x2001, productId: 0xf103, manufacturer: 'D-Link Corp.', product: 'DUB-H7 7-port USB 2.0 hub', serialNumber: null, isHub: true, serial: null },
      { portPath: '1-1.3', address: 3, vendorId: 0x10c4, productId: 0xea60, manufacturer: 'Silicon Labs', product: 'CP2104 USB to UART Bridge Controller', serialNumber: '01A2B3C4', isHub: false, serial: { ttyPath: 'ttyUSB0', url: 'rfc2217://127.0.0.1:5003' } },
    ]);
  });

  it('detaches at once when the port is switched off, and the board loses power', async () => {
    const { clock, hub, events } = hubWithEvents();
    const board = new FakeUsbDevice(CP2104);
    hub.attach(1, board);
    hub.powerOnAllPorts();
    clock.advance(500);
    const control = hub.controlDevice();
    await control.open();
    await clearPortFeature(control, PortFeature.PORT_POWER, 1);
    expect(events.map(summary)).toEqual(['attach 1-1.1 @220 addr 3 - 10c4:ea60', 'detach 1-1.1 @500']);
    expect(board.state).toBe('off');
    // Power back: power-good, then a fresh enumeration with the next address.
    await setPortFeature(control, PortFeature.PORT_POWER, 1);
    clock.advance(220);
    expect(events.map(summary).at(-1)).toBe('attach 1-1.1 @720 addr 4 - 10c4:ea60');
  });

  it('unplugging detaches at once, cuts the power and stops following the device', () => {
    const { clock, hub, events } = hubWithEvents();
    const board = new FakeUsbDevice(CP2104);
    hub.attach(1, board);
    hub.powerOnAllPorts();
    clock.advance(500);
    hub.unplug(1);
    expect(events.map(summary)).toEqual(['attach 1-1.1 @220 addr 3 - 10c4:ea60', 'detach 1-1.1 @500']);
    expect(board.state).toBe('off');
    expect(board.listenerCount).toBe(0);
    expect(hub.deviceAt(1)).toBeNull();
  });

  it('re-enumerates a native-USB device whose identity changes: detach now, attach later with a new address', () => {
    const { clock, hub, events } = hubWithEvents();
    const board = new FakeUsbDevice(JTAG);
    hub.attach(2, board, { url: 'u2' });
    hub.powerOnAllPorts();
    clock.advance(220);
    board.present(CDC); // MicroPython starts TinyUSB
    clock.advance(120);
    board.present(JTAG); // machine.bootloader()
    clock.advance(120);
    expect(events.map(summary)).toEqual([
      'attach 1-1.2 @220 addr 3 ttyACM0 303a:1001',
      'detach 1-1.2 @220',
      'attach 1-1.2 @340 addr 4 ttyACM0 303a:4001',
      'detach 1-1.2 @340',
      'attach 1-1.2 @460 addr 5 ttyACM0 303a:1001',
    ]);
  });

  it('enumerates only an identity that holds for the whole enumeration delay', () => {
    const { clock, hub, events } = hubWithEvents();
    const board = new FakeUsbDevice(JTAG);
    hub.attach(1, board, { url: 'u1' });
    hub.powerOnAllPorts();
    clock.advance(150); // JTAG presented at 100, still debouncing
    board.present(CDC);
    clock.advance(119);
    expect(events).toEqual([]);
    clock.advance(1);
    expect(events.map(summary)).toEqual(['attach 1-1.1 @270 addr 3 ttyACM0 303a:4001']);
    board.present(null); // pull-up off without a state change of power
    expect(events.map(summary).at(-1)).toBe('detach 1-1.1 @270');
    board.present({ ...CDC }); // the same identity again: enumerated anew
    clock.advance(120);
    expect(events.map(summary).at(-1)).toBe('attach 1-1.1 @390 addr 4 ttyACM0 303a:4001');
  });

  it('keeps a bridge enumerated across state changes that do not change what it presents', () => {
    const { clock, hub, events } = hubWithEvents();
    const board = new FakeUsbDevice(CP2104);
    hub.attach(5, board, { url: 'u5' });
    hub.powerOnAllPorts();
    clock.advance(220);
    for (let i = 0; i < 5; i++) board.present({ ...CP2104 }); // chip resets behind the bridge
    clock.advance(1000);
    expect(events.map((event) => event.type)).toEqual(['attach']);
  });

  it('names ttys like Linux: ttyACM for Espressif CDC, ttyUSB for bridges, lowest free number, none without a serial endpoint', () => {
    const { clock, hub } = hubWithEvents();
    hub.attach(1, new FakeUsbDevice(CDC), { url: 'u1' });
    hub.attach(2, new FakeUsbDevice(CP2104), { url: 'u2' });
    hub.attach(3, new FakeUsbDevice(CDC), { url: 'u3' });
    hub.attach(4, new FakeUsbDevice(CP2104), { url: 'u4' });
    hub.attach(5, new FakeUsbDevice(CP2104)); // no serial endpoint
    hub.powerOnAllPorts();
    clock.advance(220);
    expect(hub.list().map((d) => `${d.portPath} ${d.serial?.ttyPath ?? '-'}`)).toEqual([
      '1-1 -', '1-1.1 ttyACM0', '1-1.2 ttyUSB0', '1-1.3 ttyACM1', '1-1.4 ttyUSB1', '1-1.5 -',
    ]);
    // Port 1 goes away: its number is free again and the next ACM device takes it.
    hub.unplug(1);
    hub.attach(6, new FakeUsbDevice(CDC), { url: 'u6' });
    clock.advance(120);
    expect(hub.list().find((d) => d.portPath === '1-1.6')?.serial?.ttyPath).toBe('ttyACM0');
  });

  it('keeps a tty number taken while a program still holds the old port open, so re-enumeration gets the next one', () => {
    const { clock, hub, events } = hubWithEvents();
    let clientConnected = true;
    const board = new FakeUsbDevice(CDC);
    hub.attach(1, board, { url: 'u1', isSerialPortOpen: () => clientConnected });
    hub.powerOnAllPorts();
    clock.advance(220);
    board.present(JTAG);
    clock.advance(120);
    expect(events.filter((e) => e.type === 'attach').map((e) => e.type === 'attach' && e.device.serial?.ttyPath)).toEqual(['ttyACM0', 'ttyACM1']);
    clientConnected = false; // the client closed the old port
    board.present(CDC);
    clock.advance(120);
    // Nothing held ttyACM1 when it detached, and ttyACM0's holder is gone: back to ttyACM0.
    clientConnected = true; // a new client opens the port
    board.present(JTAG);
    clock.advance(120);
    expect(events.filter((e) => e.type === 'attach').map((e) => e.type === 'attach' && e.device.serial?.ttyPath)).toEqual(['ttyACM0', 'ttyACM1', 'ttyACM0', 'ttyACM1']);
  });

  it('shares address and tty numbering between hubs of one host, per bus for addresses', () => {
    const clock = new FakeClock();
    const numbering = new UsbHostNumbering();
    const first = new SimUsbHub({ portPath: '1-1', ports: 4, clock, numbering });
    const second = new SimUsbHub({ portPath: '1-2', ports: 4, clock, numbering });
    const other = new SimUsbHub({ portPath: '3-1', ports: 4, clock, numbering });
    expect([first.address, second.address, other.address]).toEqual([2, 3, 2]);
    first.attach(1, new FakeUsbDevice(CDC), { url: 'a' });
    second.attach(1, new FakeUsbDevice(CDC), { url: 'b' });
    first.powerOnAllPorts();
    second.powerOnAllPorts();
    clock.advance(220);
    expect([...first.list(), ...second.list()].filter((d) => !d.isHub).map((d) => `${d.address} ${d.serial?.ttyPath}`)).toEqual(['4 ttyACM0', '5 ttyACM1']);
  });

  it('resolves whenIdle once power-good and enumeration are over, and stops following devices when disposed', async () => {
    const { clock, hub, events } = hubWithEvents();
    const board = new FakeUsbDevice(CP2104);
    hub.attach(1, board, { url: 'u1' });
    hub.powerOnAllPorts();
    let idle = false;
    const waiting = hub.whenIdle().then(() => { idle = true; });
    clock.advance(219);
    await Promise.resolve();
    expect(idle).toBe(false);
    clock.advance(1);
    await waiting;
    expect(idle).toBe(true);
    hub.dispose();
    expect(board.listenerCount).toBe(0);
    expect(hub.list()).toEqual([]);
    board.powerOff();
    expect(events.map((event) => event.type)).toEqual(['attach']);
    expect(clock.pending).toBe(0);
  });

  it('refuses a port the hub lacks and a port already taken', () => {
    const { hub } = hubWithEvents(4);
    hub.attach(1, new FakeUsbDevice(CP2104));
    expect(() => hub.attach(1, new FakeUsbDevice(CP2104))).toThrow(/already has a device/);
    expect(() => hub.attach(5, new FakeUsbDevice(CP2104))).toThrow(/ports 1-4, there is no port 5/);
    expect(() => hub.attach(0, new FakeUsbDevice(CP2104))).toThrow(RangeError);
  });
});

describe('UsbHostNumbering', () => {
  it('hands out addresses round robin from 2 (the root hub has 1), wrapping after 127 and skipping those in use', () => {
    const numbering = new UsbHostNumbering();
    const addresses = Array.from({ length: 126 }, () => numbering.reserveAddress(1));
    expect(addresses[0]).toBe(2);
    expect(addresses.at(-1)).toBe(127);
    expect(() => numbering.reserveAddress(1)).toThrow(/no free device address/);
    numbering.releaseAddress(1, 50);
    numbering.releaseAddress(1, 10);
    expect(numbering.reserveAddress(1)).toBe(10); // wrapped, lowest free from 1 on
    expect(numbering.reserveAddress(1)).toBe(50);
    expect(numbering.reserveAddress(2)).toBe(2); // another bus counts on its own
  });
});
