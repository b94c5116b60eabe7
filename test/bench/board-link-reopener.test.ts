/**
 * Finding a board's serial port again by port path: the tty (and URL) it comes back under may differ,
 * the link is opened only once the host enumerated the board's firmware identity (so the first open
 * succeeds), and a board back on the bus without a serial interface is named as such.
 */
import { describe, expect, it } from 'vitest';
import type { BenchUsb } from '../../runner/bench/bench-usb.ts';
import type { BoardEndpoint } from '../../runner/bench/board-endpoint.ts';
import { createBoardLinkReopener } from '../../runner/bench/board-link-reopener.ts';
import type { DiscoveredUsbDevice, UsbHotplugEvent } from '../../runner/bench/usb-discovery.ts';
import { isHilError } from '../../runner/errors.ts';
import type { SerialLink } from '../../runner/link/serial-link.ts';
import { silentLogger } from '../../runner/logger.ts';
import { systemClock } from '../../runner/repl/clock.ts';

const endpoint: BoardEndpoint = { boardId: 's1', portPath: '1-1.2', chip: 'esp32s3', usb: 'native', linkUrl: '/dev/ttyACM0', expectedMac: undefined, runtimeUsbId: '303a:4001' };

function device(productId: number, tty: string | null): DiscoveredUsbDevice {
  return {
    portPath: '1-1.2', address: 7, vendorId: 0x303a, productId, manufacturer: null, product: null, serialNumber: null, isHub: false,
    serial: tty === null ? null : { ttyPath: tty, url: tty },
  };
}

/** A bench USB view whose devices the test plugs in by hand. */
function fakeUsb(initial: DiscoveredUsbDevice[] = []): BenchUsb & { emit(event: UsbHotplugEvent): void } {
  const devices = [...initial];
  const listeners = new Set<(event: UsbHotplugEvent) => void>();
  return {
    discovery: {
      list: async () => ({ devices: [...devices] }),
      onHotplug: (listener) => { listeners.add(listener); return () => listeners.delete(listener); },
      openHub: async () => null,
      openDevice: async () => null,
      close: async () => undefined,
    },
    portPower: async () => { throw new Error('not used'); },
    close: async () => undefined,
    emit(event) {
      if (event.type === 'attach') devices.splice(0, devices.length, event.device);
      else if (event.type === 'detach') devices.splice(0);
      for (const listener of listeners) listener(event);
    },
  };
}

function fakeOpener(opened: string[]): (url: string) => Promise<SerialLink> {
  return async (url) => {
    opened.push(url);
    return { url, isOpen: true } as unknown as SerialLink;
  };
}

describe('createBoardLinkReopener', () => {
  it('waits for the firmware identity at the port path and opens the new tty on the first try', async () => {
    const usb = fakeUsb();
    const opened: string[] = [];
    const reopen = createBoardLinkReopener({ usb, openLink: fakeOpener(opened), clock: systemClock, logger: silentLogger() });
    const pending = reopen(endpoint, { deadlineMs: 2000 });
    setTimeout(() => usb.emit({ type: 'attach', atMs: 0, device: device(0x1001, '/dev/ttyACM1') }), 20); // the ROM's USB-Serial-JTAG
    setTimeout(() => usb.emit({ type: 'detach', atMs: 0, portPath: '1-1.2' }), 40);
    setTimeout(() => usb.emit({ type: 'attach', atMs: 0, device: device(0x4001, '/dev/ttyACM2') }), 60);
    const result = await pending;
    expect(result.url).toBe('/dev/ttyACM2');
    expect(result.ttyPath).toBe('/dev/ttyACM2');
    expect(result.attempts).toBe(1);
    expect(opened).toEqual(['/dev/ttyACM2']);
    expect(result.waitedForDeviceMs).toBeGreaterThanOrEqual(40);
  });

  it('takes a device already enumerated there without waiting', async () => {
    const usb = fakeUsb([device(0x4001, '/dev/ttyACM3')]);
    const opened: string[] = [];
    const reopen = createBoardLinkReopener({ usb, openLink: fakeOpener(opened), clock: systemClock, logger: silentLogger() });
    expect((await reopen(endpoint, { deadlineMs: 1000 })).url).toBe('/dev/ttyACM3');
  });

  it('names a board that came back without a serial interface (REPL port gone)', async () => {
    const usb = fakeUsb([device(0x4001, null)]);
    const reopen = createBoardLinkReopener({ usb, openLink: fakeOpener([]), clock: systemClock, logger: silentLogger() });
    const err = await reopen(endpoint, { deadlineMs: 200 }).catch((e: unknown) => e);
    expect(isHilError(err, 'BOARD_NOT_ENUMERATED')).toBe(true);
    expect((err as Error).message).toMatch(/no serial interface: its REPL port is gone/);
  });

  it('says why when the host refused to enumerate the device', async () => {
    const usb = fakeUsb();
    const reopen = createBoardLinkReopener({ usb, openLink: fakeOpener([]), clock: systemClock, logger: silentLogger() });
    const pending = reopen(endpoint, { deadlineMs: 200 }).catch((e: unknown) => e);
    setTimeout(() => usb.emit({ type: 'enumeration-failed', atMs: 0, portPath: '1-1.2', reason: 'bNumInterfaces 2 but 3 interfaces', codes: ['num-interfaces-mismatch'] }), 20);
    const err = await pending;
    expect(isHilError(err, 'BOARD_NOT_ENUMERATED')).toBe(true);
    expect((err as Error).message).toMatch(/host refused to enumerate the board's USB device: bNumInterfaces 2 but 3 interfaces/);
  });

  it('with any-serial accepts the ROM device, and retries an open that fails until the deadline', async () => {
    const usb = fakeUsb([device(0x1001, '/dev/ttyACM4')]);
    let calls = 0;
    const reopen = createBoardLinkReopener({
      usb, clock: systemClock, logger: silentLogger(),
      openLink: async (url) => {
        calls++;
        if (calls === 1) throw new Error('EACCES: udev has not set permissions yet');
        return { url, isOpen: true } as unknown as SerialLink;
      },
    });
    const result = await reopen(endpoint, { deadlineMs: 2000, target: 'any-serial' });
    expect(result.url).toBe('/dev/ttyACM4');
    expect(result.attempts).toBe(2);
  });

  it('without a USB view reopens the same URL', async () => {
    const opened: string[] = [];
    const reopen = createBoardLinkReopener({ usb: undefined, openLink: fakeOpener(opened), clock: systemClock, logger: silentLogger() });
    expect((await reopen(endpoint, { deadlineMs: 500 })).url).toBe('/dev/ttyACM0');
  });
});
