import { afterEach, describe, expect, it } from 'vitest';
import { PhysicalDiscovery, type PhysicalDiscoveryOptions } from '../../runner/bench/physical-discovery.ts';
import type { SerialPortInfo } from '../../runner/bench/physical-serial-ports.ts';
import { NodeSysfsReader } from '../../runner/bench/sysfs-reader.ts';
import type { UsbHotplugEvent } from '../../runner/bench/usb-discovery.ts';
import { ManualClock } from '../repl/manual-clock.ts';
import { FakeSysfs } from './fake-sysfs.ts';
import { FakeHostUsbDevice, FakeUsbSource } from './fake-usb-source.ts';
import { SEVEN_PORT_HUB_BENCH, type FixtureDevice } from './fixtures/seven-port-hub-bench.ts';

const fixture = (portPath: string): FixtureDevice => {
  const found = SEVEN_PORT_HUB_BENCH.find((d) => `${Number(d.bus)}-${d.ports.join('.')}` === portPath);
  if (!found) throw new Error(`no fixture device at ${portPath}`);
  return found;
};

/** What this container's `usb` package does: getDevices rejects (seen with usb 3.1.0 here). */
const CONTAINER_GET_DEVICES_ERROR = 'getDevices error: /sys/bus/usb/devices/ not found (errno 2)';

/** What serialport 13's Linux list rejects with when `udevadm` is not installed. */
function spawnEnoent(): Error {
  return Object.assign(new Error('spawn udevadm ENOENT'), { code: 'ENOENT', errno: -2, syscall: 'spawn udevadm', path: 'udevadm' });
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function bench(options: { sysfs?: FakeSysfs | null; source?: FakeUsbSource } & Omit<PhysicalDiscoveryOptions, 'sysfs'> = {}) {
  const sysfs = options.sysfs === undefined ? new FakeSysfs() : options.sysfs;
  const source = options.source ?? new FakeUsbSource(SEVEN_PORT_HUB_BENCH);
  if (sysfs) {
    if (options.sysfs === undefined) for (const device of SEVEN_PORT_HUB_BENCH) sysfs.addDevice(device);
    cleanups.push(() => sysfs.cleanup());
  }
  let loads = 0;
  const discovery = new PhysicalDiscovery({
    loadUsb: async () => { loads++; return source; },
    listSerialPorts: async () => { throw new Error('the serial port list must not be needed when sysfs has class/tty'); },
    ...options,
    sysfs: sysfs ? new NodeSysfsReader(sysfs.root) : null,
  });
  cleanups.push(() => discovery.close());
  return { discovery, sysfs, source, loads: () => loads };
}

describe('PhysicalDiscovery.list on a bench with a 7-port hub', () => {
  it('lists every device by port path with its tty from sysfs', async () => {
    const { discovery } = bench();
    const { devices, problem } = await discovery.list();
    expect(problem).toBeUndefined();
    expect(devices.map((d) => [d.portPath, d.address, d.isHub, d.serial?.ttyPath ?? null])).toEqual([
      ['1-1', 2, true, null],
      ['1-1.1', 3, false, '/dev/ttyUSB0'],
      ['1-1.2', 4, false, '/dev/ttyUSB1'],
      ['1-1.3', 5, false, '/dev/ttyACM0'],
      ['1-1.4', 6, false, '/dev/ttyACM1'],
    ]);
    expect(devices[3]).toEqual({
      portPath: '1-1.3', address: 5, vendorId: 0x303a, productId: 0x4001, manufacturer: 'MicroPython',
      product: 'Board in FS mode', serialNumber: '123456', isHub: false, serial: { ttyPath: '/dev/ttyACM0', url: '/dev/ttyACM0' },
    });
  });

  it('gives each board the tty at its own port path, whatever the tty numbering', async () => {
    // Cabling swapped relative to enumeration order: the board on port 4 got ttyACM0.
    const sysfs = new FakeSysfs();
    const s3a = { ...fixture('1-1.3'), tty: { name: 'ttyACM1', driver: 'cdc-acm' as const, interfaceNumber: 0 } };
    const s3b = { ...fixture('1-1.4'), tty: { name: 'ttyACM0', driver: 'cdc-acm' as const, interfaceNumber: 0 } };
    for (const device of [fixture('1-1'), s3a, s3b]) sysfs.addDevice(device);
    const { discovery } = bench({ sysfs, source: new FakeUsbSource([fixture('1-1'), s3a, s3b]) });
    const { devices } = await discovery.list();
    expect(devices.find((d) => d.portPath === '1-1.3')?.serial?.ttyPath).toBe('/dev/ttyACM1');
    expect(devices.find((d) => d.portPath === '1-1.4')?.serial?.ttyPath).toBe('/dev/ttyACM0');
  });

  it('re-resolves a board that re-enumerated with a new tty name and address', async () => {
    const { discovery, sysfs, source } = bench();
    const before = (await discovery.list()).devices.find((d) => d.portPath === '1-1.3');
    expect(before).toMatchObject({ address: 5, serial: { ttyPath: '/dev/ttyACM0' } });

    // The board resets: the kernel drops ttyACM0, the board comes back at a new address as ttyACM2.
    const board = fixture('1-1.3');
    sysfs!.removeDevice(board);
    const again = { ...board, address: 9, tty: { name: 'ttyACM2', driver: 'cdc-acm' as const, interfaceNumber: 0 } };
    sysfs!.addDevice(again);
    source.devices = source.devices.map((d) => (d.address === 5 ? new FakeHostUsbDevice(again) : d));

    const after = (await discovery.list()).devices.find((d) => d.portPath === '1-1.3');
    expect(after).toMatchObject({ address: 9, serialNumber: '123456', serial: { ttyPath: '/dev/ttyACM2' } });
  });

  it('sorts port paths numerically', async () => {
    const devices = ['1-1.10', '1-1.2', '2-1', '1-1'].map((path, i) => {
      const [bus, chain] = path.split('-');
      return { ...fixture('1-1.1'), bus: bus!.padStart(3, '0'), ports: chain!.split('.').map(Number), address: 10 + i, tty: null };
    });
    const { discovery } = bench({ sysfs: null, source: new FakeUsbSource(devices), listSerialPorts: null });
    expect((await discovery.list()).devices.map((d) => d.portPath)).toEqual(['1-1', '1-1.2', '1-1.10', '2-1']);
  });
});

describe('PhysicalDiscovery on a host without a USB view', () => {
  it('reports a missing /sys/bus/usb without loading the usb package', async () => {
    const sysfs = new FakeSysfs({ withUsbBus: false });
    const { discovery, loads } = bench({ sysfs });
    const snapshot = await discovery.list();
    expect(snapshot).toEqual({ devices: [], problem: `no USB bus visible: ${sysfs.root}/bus/usb not found` });
    expect(loads()).toBe(0);
  });

  it('reports getDevices rejecting the way it does in this container', async () => {
    const source = new FakeUsbSource(SEVEN_PORT_HUB_BENCH);
    source.failure = new Error(CONTAINER_GET_DEVICES_ERROR);
    const { discovery } = bench({ source });
    await expect(discovery.list()).resolves.toEqual({ devices: [], problem: 'no USB bus visible: /sys/bus/usb/devices/ not found (errno 2)' });
  });

  it('reports a usb package that does not load, and keeps reporting it', async () => {
    let loads = 0;
    const discovery = new PhysicalDiscovery({
      loadUsb: async () => { loads++; throw new Error('Cannot find native binding'); },
      sysfs: null,
      listSerialPorts: null,
    });
    cleanups.push(() => discovery.close());
    for (let i = 0; i < 2; i++) {
      const snapshot = await discovery.list();
      expect(snapshot.devices).toEqual([]);
      expect(snapshot.problem).toBe('no USB bus visible: the usb package could not be loaded: Cannot find native binding');
    }
    expect(loads).toBe(1);
  });

  it('does not reject when USB fails and serialport cannot spawn udevadm either', async () => {
    const source = new FakeUsbSource([]);
    source.failure = new Error(CONTAINER_GET_DEVICES_ERROR);
    const { discovery } = bench({ sysfs: null, source, listSerialPorts: () => Promise.reject(spawnEnoent()) });
    const snapshot = await discovery.list();
    expect(snapshot.devices).toEqual([]);
    expect(snapshot.problem).toMatch(/^no USB bus visible: /);
  });

  it('lists devices without ttys when the serial port list rejects with a spawn ENOENT', async () => {
    const { discovery } = bench({ sysfs: null, listSerialPorts: () => Promise.reject(spawnEnoent()) });
    const snapshot = await discovery.list();
    expect(snapshot.problem).toBeUndefined();
    expect(snapshot.devices).toHaveLength(5);
    expect(snapshot.devices.every((d) => d.serial === null)).toBe(true);
  });

  it('survives a serial port lister that throws synchronously', async () => {
    const { discovery } = bench({ sysfs: null, listSerialPorts: () => { throw spawnEnoent(); } });
    await expect(discovery.list()).resolves.toMatchObject({ devices: expect.any(Array) });
  });

  it('never rejects with the real defaults on this host', async () => {
    const discovery = new PhysicalDiscovery();
    cleanups.push(() => discovery.close());
    const snapshot = await discovery.list();
    if (snapshot.problem !== undefined) {
      expect(snapshot.problem).toMatch(/^no USB bus visible: /);
      expect(snapshot.devices).toEqual([]);
    } else {
      expect(Array.isArray(snapshot.devices)).toBe(true);
    }
  });
});

describe('PhysicalDiscovery tty lookup without sysfs (serialport list)', () => {
  const ports: SerialPortInfo[] = [
    { path: '/dev/cu.usbserial-01A4C2E1', vendorId: '10c4', productId: 'ea60', serialNumber: '01A4C2E1' },
    { path: '/dev/cu.usbserial-01A4C2F7', vendorId: '10C4', productId: 'EA60', serialNumber: '01A4C2F7' },
    { path: '/dev/cu.usbmodem1234561', vendorId: '303a', productId: '4001', serialNumber: '123456' },
    { path: '/dev/cu.usbmodemf412fa4b5c3d1', vendorId: '303a', productId: '4001', serialNumber: 'f412fa4b5c3d' },
    { path: '/dev/cu.Bluetooth-Incoming-Port' },
  ];

  it('matches by VID, PID and serial string', async () => {
    const { discovery } = bench({ sysfs: null, listSerialPorts: async () => ports });
    const { devices } = await discovery.list();
    expect(Object.fromEntries(devices.map((d) => [d.portPath, d.serial?.ttyPath ?? null]))).toEqual({
      '1-1': null,
      '1-1.1': '/dev/cu.usbserial-01A4C2E1',
      '1-1.2': '/dev/cu.usbserial-01A4C2F7',
      '1-1.3': '/dev/cu.usbmodem1234561',
      '1-1.4': '/dev/cu.usbmodemf412fa4b5c3d1',
    });
  });

  it('gives no tty to boards it cannot tell apart (both report 123456)', async () => {
    const twins = [fixture('1-1'), fixture('1-1.3'), { ...fixture('1-1.4'), serialNumber: '123456' }];
    const twinPorts: SerialPortInfo[] = [
      { path: '/dev/ttyACM0', vendorId: '303a', productId: '4001', serialNumber: '123456' },
      { path: '/dev/ttyACM1', vendorId: '303a', productId: '4001', serialNumber: '123456' },
    ];
    const { discovery } = bench({ sysfs: null, source: new FakeUsbSource(twins), listSerialPorts: async () => twinPorts });
    const { devices } = await discovery.list();
    expect(devices.filter((d) => !d.isHub).map((d) => d.serial)).toEqual([null, null]);
  });

  it('falls back to the list on Linux when sysfs has no class/tty', async () => {
    const sysfs = new FakeSysfs({ withClassTty: false });
    const { discovery } = bench({ sysfs, listSerialPorts: async () => ports });
    expect((await discovery.list()).devices.find((d) => d.portPath === '1-1.2')?.serial?.ttyPath).toBe('/dev/cu.usbserial-01A4C2F7');
  });
});

describe('PhysicalDiscovery.openHub', () => {
  it('returns the hub at a port path as a control device', async () => {
    const { discovery, source } = bench();
    const hub = await discovery.openHub('1-1');
    expect(hub).not.toBeNull();
    expect([hub!.vendorId, hub!.productId]).toEqual([0x110a, 0x0407]);
    await hub!.open();
    expect(source.devices[0]!.opened).toBe(true);
  });

  it('returns null for a board, an empty port, or a host without USB', async () => {
    const { discovery } = bench();
    expect(await discovery.openHub('1-1.3')).toBeNull();
    expect(await discovery.openHub('1-1.6')).toBeNull();
    const source = new FakeUsbSource(SEVEN_PORT_HUB_BENCH);
    source.failure = new Error(CONTAINER_GET_DEVICES_ERROR);
    expect(await bench({ source }).discovery.openHub('1-1')).toBeNull();
  });

  it('passes an empty data stage (usb 3.1.0 throws without one) and explains its port-request limitation', async () => {
    const { discovery, source } = bench();
    const hub = (await discovery.openHub('1-1'))!;
    await hub.controlTransferOut({ requestType: 'class', recipient: 'device', request: 3, value: 1, index: 0 });
    const device = source.devices[0] as FakeHostUsbDevice;
    expect(device.outData).toHaveLength(1);
    expect(device.outData[0]).toBeInstanceOf(Uint8Array);
    expect((device.outData[0] as Uint8Array).byteLength).toBe(0);
    await expect(hub.controlTransferIn({ requestType: 'class', recipient: 'other', request: 0, value: 0, index: 3 }, 4))
      .rejects.toThrow(/invalid state \(the usb package sends hub-port requests only through a claimed interface/);
  });
});

describe('PhysicalDiscovery hot-plug', () => {
  function record(discovery: PhysicalDiscovery): { events: UsbHotplugEvent[]; stop: () => void } {
    const events: UsbHotplugEvent[] = [];
    const stop = discovery.onHotplug((event) => events.push(event));
    return { events, stop };
  }

  it('subscribes to connect/disconnect while someone listens, and reports attach and detach in order', async () => {
    const clock = new ManualClock();
    const source = new FakeUsbSource(SEVEN_PORT_HUB_BENCH.filter((d) => d.ports.join('.') !== '1.4'));
    const { discovery } = bench({ source, clock });
    const { events, stop } = record(discovery);
    await expect.poll(() => source.listenerCount()).toBe(2);

    const board = new FakeHostUsbDevice(fixture('1-1.4'));
    source.connect(board);
    source.disconnect(board);
    await expect.poll(() => events.length).toBe(2);
    expect(events[0]).toMatchObject({ type: 'attach', atMs: clock.now(), device: { portPath: '1-1.4', address: 6, serial: { ttyPath: '/dev/ttyACM1' } } });
    expect(events[1]).toEqual({ type: 'detach', atMs: clock.now(), portPath: '1-1.4' });

    stop();
    expect(source.listenerCount()).toBe(0);
    source.connect(board);
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toHaveLength(2);
  });

  it('waits for the tty the kernel creates after the device appears', async () => {
    const clock = new ManualClock();
    const sysfs = new FakeSysfs();
    const board = fixture('1-1.3');
    const { discovery, source } = bench({ sysfs, source: new FakeUsbSource([]), clock, ttyWaitMs: 1000, ttyPollMs: 50 });
    const { events } = record(discovery);
    await expect.poll(() => source.listenerCount()).toBe(2);

    sysfs.addDevice({ ...board, tty: null });
    source.connect(new FakeHostUsbDevice(board));
    await expect.poll(() => clock.pendingTimers).toBe(1);
    clock.advance(50);
    await expect.poll(() => clock.pendingTimers).toBe(1);
    expect(events).toEqual([]);

    sysfs.addTty(board, board.tty!);
    clock.advance(50);
    await expect.poll(() => events.length).toBe(1);
    expect(events[0]).toMatchObject({ type: 'attach', device: { portPath: '1-1.3', serial: { ttyPath: '/dev/ttyACM0' } } });
  });

  it('reports a device without a tty once the wait ends, and hubs at once', async () => {
    const clock = new ManualClock();
    const { discovery, source } = bench({ sysfs: new FakeSysfs(), source: new FakeUsbSource([]), clock, ttyWaitMs: 100, ttyPollMs: 50 });
    const { events } = record(discovery);
    await expect.poll(() => source.listenerCount()).toBe(2);

    source.connect(new FakeHostUsbDevice({ ...fixture('1-1'), ports: [2] }));
    await expect.poll(() => events.length).toBe(1);
    expect(events[0]).toMatchObject({ type: 'attach', device: { portPath: '1-2', isHub: true, serial: null } });

    source.connect(new FakeHostUsbDevice({ ...fixture('1-1.1'), tty: null }));
    await expect.poll(() => clock.pendingTimers).toBe(1);
    clock.advance(50);
    await expect.poll(() => clock.pendingTimers).toBe(1);
    clock.advance(50);
    await expect.poll(() => events.length).toBe(2);
    expect(events[1]).toMatchObject({ type: 'attach', device: { portPath: '1-1.1', serial: null } });
  });

  it('ends a tty wait when the device leaves, reporting attach then detach', async () => {
    const clock = new ManualClock();
    const { discovery, source } = bench({ sysfs: new FakeSysfs(), source: new FakeUsbSource([]), clock, ttyWaitMs: 5000 });
    const { events } = record(discovery);
    await expect.poll(() => source.listenerCount()).toBe(2);

    const board = new FakeHostUsbDevice(fixture('1-1.3'));
    source.connect(board);
    await expect.poll(() => clock.pendingTimers).toBe(1);
    source.disconnect(board);
    await expect.poll(() => events.length).toBe(2);
    expect(events.map((e) => e.type)).toEqual(['attach', 'detach']);
    expect(events[0]).toMatchObject({ device: { portPath: '1-1.3', serial: null } });
    expect(clock.pendingTimers).toBe(0);
  });

  it('stops watching on close, idempotently', async () => {
    const { discovery, source } = bench();
    record(discovery);
    await expect.poll(() => source.listenerCount()).toBe(2);
    await discovery.close();
    await discovery.close();
    expect(source.listenerCount()).toBe(0);
  });

  it('does not subscribe when the listener left before the usb package loaded', async () => {
    const source = new FakeUsbSource([]);
    let release!: () => void;
    const loaded = new Promise<void>((resolve) => { release = resolve; });
    const discovery = new PhysicalDiscovery({ loadUsb: async () => { await loaded; return source; }, sysfs: null, listSerialPorts: null });
    cleanups.push(() => discovery.close());
    const stop = discovery.onHotplug(() => undefined);
    stop();
    release();
    await discovery.list();
    expect(source.listenerCount()).toBe(0);
  });
});

describe('PhysicalDiscovery hot-plug without a USB view', () => {
  it('does not subscribe to a source whose listing fails (usb 3.1.0 would crash the process)', async () => {
    const source = new FakeUsbSource([]);
    source.failure = new Error(CONTAINER_GET_DEVICES_ERROR);
    const { discovery } = bench({ sysfs: null, source, listSerialPorts: null });
    discovery.onHotplug(() => undefined);
    await expect.poll(() => source.getDevicesCalls).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(source.listenerCount()).toBe(0);
  });

  it('does not even load the usb package for events when /sys/bus/usb is missing', async () => {
    const { discovery, loads } = bench({ sysfs: new FakeSysfs({ withUsbBus: false }) });
    discovery.onHotplug(() => undefined);
    await discovery.list();
    await new Promise((resolve) => setImmediate(resolve));
    expect(loads()).toBe(0);
  });
});
