import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ResetCause } from '../../../sim/micropython/micropython-host.ts';
import type { BoardHostOptions } from '../../../sim/board/sim-board.ts';
import type { SimUsbHotplugEvent } from '../../../sim/usb/sim-hotplug-event.ts';
import { SimUsbHub } from '../../../sim/usb/sim-usb-hub.ts';
import { FakeFirmware, hidFunction, runtimeConfig, summary, vendorFunction } from '../usbd/usbd-fixture.ts';
import { makeBoard, smallFirmware } from './board-fixture.ts';
import { FakeMicroPythonHost } from './fake-micropython-host.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** An interpreter whose firmware drives the USB stack: attached while it runs, connecting only when told. */
class UsbDrivingHost extends FakeMicroPythonHost {
  firmware: FakeFirmware | null = null;

  override async start(cause: ResetCause): Promise<void> {
    if (this.options.usb !== undefined) this.firmware = new FakeFirmware(this.options.usb);
    await super.start(cause);
  }

  override async stop(): Promise<void> {
    this.firmware?.detach();
    await super.stop();
  }
}

function usbDrivingHosts() {
  const hosts: UsbDrivingHost[] = [];
  return {
    hosts,
    create: (options: BoardHostOptions) => {
      const host = new UsbDrivingHost(options);
      hosts.push(host);
      return host;
    },
  };
}

async function s3OnHub() {
  const factory = usbDrivingHosts();
  const fixture = makeBoard({ chip: 'esp32s3', usb: { kind: 'native-usb' }, image: smallFirmware('esp32s3', 'v1.24.1'), flashSizeBytes: 8 << 20, hostFactory: factory });
  const hub = new SimUsbHub({ portPath: '1-1', ports: 4 });
  const events: SimUsbHotplugEvent[] = [];
  hub.onHotplug((event) => events.push(event));
  hub.attach(1, fixture.board, { url: 'rfc2217://127.0.0.1:4001' });
  hub.powerOnAllPorts();
  await vi.advanceTimersByTimeAsync(1000);
  return { ...fixture, hosts: factory.hosts, hub, events };
}

describe('SimBoard with native USB: the USB device controller', () => {
  it('hands its controller to the interpreter on native USB only', async () => {
    const s3 = makeBoard({ chip: 'esp32s3', usb: { kind: 'native-usb' }, image: smallFirmware('esp32s3'), flashSizeBytes: 8 << 20 });
    s3.board.powerOn();
    await vi.advanceTimersByTimeAsync(300);
    expect(s3.hosts[0]!.options.usb).toBe(s3.board.usbController);
    expect(s3.board.usbController).not.toBeNull();
    const bridged = makeBoard();
    bridged.board.powerOn();
    await vi.advanceTimersByTimeAsync(300);
    expect(bridged.hosts[0]!.options.usb).toBeUndefined();
    expect(bridged.board.usbController).toBeNull();
    await s3.board.dispose();
    await bridged.board.dispose();
  });

  it('is off the bus under a firmware that drives the stack until it connects, then shows what it presents', async () => {
    const { board, hosts, hub, events } = await s3OnHub();
    expect(board.state).toBe('app-running');
    // The ROM's USB-Serial-JTAG came and went; MicroPython has not connected its stack.
    expect(events.map(summary)).toEqual(['attach 303a:1001 addr 3 ttyACM0', 'detach']);
    expect(board.usbIdentity).toBeNull();
    const firmware = hosts[0]!.firmware!;
    firmware.connect('cdc', runtimeConfig('cdc', [vendorFunction(2, 3)], { strings: [null, null, 'Rig Probe'] }));
    expect(board.usbIdentity).toMatchObject({ vid: 0x303a, pid: 0x4001, product: 'Rig Probe', serialNumber: '246f28aabbcc0000' });
    await vi.advanceTimersByTimeAsync(120);
    expect(events.map(summary).slice(2)).toEqual(['attach 303a:4001 addr 4 ttyACM0']);
    expect(firmware.kinds()).toEqual(['bus-reset', 'configured']);

    // machine.bootloader(): the interpreter stops, the ROM's USB-Serial-JTAG takes over.
    hosts[0]!.requestReset('bootloader');
    await vi.advanceTimersByTimeAsync(200);
    expect(board.state).toBe('rom-download');
    expect(events.map(summary).slice(3)).toEqual(['detach', 'attach 303a:1001 addr 5 ttyACM0']);
    hub.dispose();
    await board.dispose();
  });

  it('loses its tty when the firmware presents a device without CDC (BUILTIN_NONE)', async () => {
    const { board, hosts, hub, events } = await s3OnHub();
    hosts[0]!.firmware!.connect('none', runtimeConfig('none', [hidFunction(0, 1)]));
    await vi.advanceTimersByTimeAsync(120);
    expect(events.map(summary).at(-1)).toBe('attach 303a:4001 addr 4 -');
    expect(hub.list()[1]).toMatchObject({ portPath: '1-1.1', serial: null });
    hub.dispose();
    await board.dispose();
  });
});
