import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SimUsbHotplugEvent } from '../../../sim/usb/sim-hotplug-event.ts';
import { SimUsbHub } from '../../../sim/usb/sim-usb-hub.ts';
import { makeBoard, smallFirmware } from '../board/board-fixture.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function attachSummary(event: SimUsbHotplugEvent): string {
  if (event.type === 'enumeration-failed') return `enumeration-failed ${event.codes.join(',')}`;
  return event.type === 'detach' ? 'detach' : `attach ${event.device.vendorId.toString(16)}:${event.device.productId.toString(16)} ${event.device.serialNumber} ${event.device.serial?.ttyPath}`;
}

describe('SimUsbHub with real SimBoards', () => {
  it('shows a native-USB ESP32-S3 re-enumerating: USB-Serial-JTAG at boot, TinyUSB CDC under MicroPython, JTAG again in download mode', async () => {
    const { board, hosts } = makeBoard({ chip: 'esp32s3', usb: { kind: 'native-usb' }, image: smallFirmware('esp32s3', 'v1.24.1'), flashSizeBytes: 8 << 20 });
    const hub = new SimUsbHub({ portPath: '1-1', ports: 7 });
    const events: SimUsbHotplugEvent[] = [];
    hub.onHotplug((event) => events.push(event));
    let clientConnected = false;
    hub.attach(1, board, { url: 'rfc2217://127.0.0.1:4001', isSerialPortOpen: () => clientConnected });
    hub.powerOnAllPorts();
    await vi.advanceTimersByTimeAsync(99);
    expect(board.state).toBe('off');
    // Power-good at 100 ms; the ROM's USB-Serial-JTAG is enumerated before the 200 ms strapping window ends.
    await vi.advanceTimersByTimeAsync(1 + 120);
    expect(events.map(attachSummary)).toEqual(['attach 303a:1001 24:6F:28:AA:BB:CC ttyACM0']);
    await vi.advanceTimersByTimeAsync(200);
    expect(board.state).toBe('app-running');
    expect(events.map(attachSummary)).toEqual([
      'attach 303a:1001 24:6F:28:AA:BB:CC ttyACM0',
      'detach',
      'attach 303a:4001 246f28aabbcc0000 ttyACM0',
    ]);
    const cdcAddress = hub.list()[1]?.address;

    // A client holds the port while MicroPython drops into the ROM loader (machine.bootloader()).
    clientConnected = true;
    events.length = 0;
    hosts[0]!.requestReset('bootloader');
    await vi.advanceTimersByTimeAsync(0);
    expect(board.state).toBe('rom-download');
    expect(events.map(attachSummary)).toEqual(['detach']);
    await vi.advanceTimersByTimeAsync(119);
    expect(hub.list()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(events.map(attachSummary)).toEqual(['detach', 'attach 303a:1001 24:6F:28:AA:BB:CC ttyACM1']);
    expect(hub.list()[1]?.address).not.toBe(cdcAddress);

    // Reset into the app: back to TinyUSB CDC; the client has gone, so the lowest number is free again.
    clientConnected = false;
    board.hardReset();
    await vi.advanceTimersByTimeAsync(1000);
    expect(board.state).toBe('app-running');
    expect(events.map(attachSummary).slice(2)).toEqual(['detach', 'attach 303a:4001 246f28aabbcc0000 ttyACM0']);
    hub.dispose();
    await board.dispose();
  });

  it('keeps a CP2104-bridged ESP32 enumerated across chip resets while the port has power', async () => {
    const { board } = makeBoard();
    const hub = new SimUsbHub({ portPath: '1-2', ports: 4 });
    const events: SimUsbHotplugEvent[] = [];
    hub.onHotplug((event) => events.push(event));
    hub.attach(4, board, { url: 'rfc2217://127.0.0.1:4004' });
    hub.powerOnAllPorts();
    await vi.advanceTimersByTimeAsync(1000);
    expect(board.state).toBe('app-running');
    board.hardReset();
    await vi.advanceTimersByTimeAsync(1000);
    board.hardReset();
    await vi.advanceTimersByTimeAsync(1000);
    expect(events.map(attachSummary)).toEqual(['attach 10c4:ea60 01A2B3C4 ttyUSB0']);
    expect(hub.list()[1]).toMatchObject({ portPath: '1-2.4', serial: { ttyPath: 'ttyUSB0', url: 'rfc2217://127.0.0.1:4004' } });
    hub.dispose();
    await board.dispose();
  });
});
