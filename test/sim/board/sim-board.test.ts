import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlashStore } from '../../../sim/board/flash-store.ts';
import { provisionStockFirmware } from '../../../sim/board/initial-flash.ts';
import type { RomLoader } from '../../../sim/board/rom-loader.ts';
import { CP2104, makeBoard, smallFirmware } from './board-fixture.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Sets modem lines the way an RFC 2217 client does: one line per request, `gapMs` apart. */
async function lines(port: { setModemLines(l: { dtr: boolean; rts: boolean }): void }, steps: [number, number][], gapMs = 50) {
  for (const [dtr, rts] of steps) {
    port.setModemLines({ dtr: dtr === 1, rts: rts === 1 });
    await vi.advanceTimersByTimeAsync(gapMs);
  }
}

describe('SimBoard (ESP32 behind a CP2104)', () => {
  it('powers on: ROM banner, bootloader log, then MicroPython with the firmware identity from the image', async () => {
    const { board, hosts, output, states } = makeBoard();
    expect(board.state).toBe('off');
    expect(board.usbIdentity).toBeNull();
    board.powerOn();
    expect(board.state).toBe('reset');
    await vi.advanceTimersByTimeAsync(199);
    expect(output()).toBe('');
    await vi.advanceTimersByTimeAsync(2);
    expect(board.state).toBe('app-running');
    expect(states).toEqual(['reset', 'booting', 'app-running']);

    const text = output();
    expect(text.startsWith('ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n')).toBe(true);
    expect(text).toContain('configsip: 0, SPIWP:0xee\r\n');
    expect(text).toMatch(/load:0x3fff0030,len:\d+\r\n/);
    expect(text).toContain('entry 0x4008064c\r\n');
    expect(text).toMatch(/I \(\d+\) boot: ESP-IDF v5\.2\.2 2nd stage bootloader\r\n/);
    expect(text).toMatch(/I \(\d+\) boot:  2 factory          factory app      00 00 00010000 001f0000\r\n/);
    expect(text).toMatch(/I \(\d+\) boot: Loaded app from partition at offset 0x10000\r\n/);
    expect(text).not.toContain('\n\n\n');
    // The host's banner follows the boot log.
    expect(text.indexOf('MicroPython v1.24.1')).toBeGreaterThan(text.indexOf('Loaded app'));
    expect(text.endsWith('>>> ')).toBe(true);

    expect(hosts).toHaveLength(1);
    const host = hosts[0]!;
    expect(host.startCauses).toEqual(['power-on']);
    expect(host.options.firmware).toEqual({ version: 'v1.24.1', buildDate: '2024-11-29', boardName: 'Generic ESP32 module', mcuName: 'ESP32' });
    expect(host.options.quirks).toEqual({ flavour: 'test' });
    expect(host.options.hardware).toMatchObject({ chip: 'esp32', flashSizeBytes: 4 * 1024 * 1024, psramBytes: 0 });
    expect(host.options.filesystem.capacityBytes).toBe(0x200000 - 12);
    expect(board.runningFirmware?.version).toBe('v1.24.1');
    expect(board.usbIdentity).toEqual(CP2104);

    // Host input reaches the interpreter.
    board.serialPort.receiveFromHost(new TextEncoder().encode('1+1\r'));
    await vi.advanceTimersByTimeAsync(0); // unpaced: the bytes arrive on the next microtask
    expect(host.inputs).toEqual(['1+1\r']);
    await board.dispose();
    expect(host.stopCount).toBe(1);
    expect(board.state).toBe('off');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('enters download mode on esptool.py\'s Classic reset over RFC 2217 (separate DTR/RTS changes ~50 ms apart)', async () => {
    const { board, hosts, output, clearOutput } = makeBoard();
    board.powerOn();
    await vi.advanceTimersByTimeAsync(300);
    expect(board.state).toBe('app-running');
    clearOutput();
    const port = board.serialPort;
    // DTR=0 (redundant), RTS=1, DTR re-sent, sleep 100 ms, DTR=1, RTS=1→0, DTR re-sent, sleep 50 ms, DTR=0.
    await lines(port, [[0, 0], [0, 1], [0, 1]]);
    expect(board.state).toBe('reset');
    await lines(port, [[1, 1], [1, 0], [1, 0]]);
    await lines(port, [[0, 0]], 300);
    expect(board.state).toBe('rom-download');
    expect(output()).toBe('ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n');
    expect(hosts).toHaveLength(1);
    expect(hosts[0]!.stopCount).toBe(1);
    // The default ROM loader ignores input and prints nothing more.
    port.receiveFromHost(new Uint8Array([0xc0, 0x00, 0x08, 0xc0]));
    await vi.advanceTimersByTimeAsync(1000);
    expect(output()).toContain('waiting for download\r\n');
    expect(output().endsWith('waiting for download\r\n')).toBe(true);
    await board.dispose();
  });

  it('boots normally after the same sequence when the strapping window is too short (why the window exists)', async () => {
    const { board } = makeBoard({ strappingWindowMs: 10 });
    board.powerOn();
    await vi.advanceTimersByTimeAsync(50);
    await lines(board.serialPort, [[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]);
    expect(board.state).toBe('app-running');
    await board.dispose();
  });

  it('boots normally on a plain EN pulse (RTS=1 → 100 ms → RTS=0) and after hardReset()', async () => {
    const { board, hosts, output, clearOutput } = makeBoard();
    board.powerOn();
    await vi.advanceTimersByTimeAsync(300);
    clearOutput();
    await lines(board.serialPort, [[0, 1]], 100);
    expect(board.state).toBe('reset');
    await lines(board.serialPort, [[0, 0]], 300);
    expect(board.state).toBe('app-running');
    expect(output()).toContain('rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)');
    expect(hosts).toHaveLength(2);
    expect(hosts[0]!.stopCount).toBe(1);
    board.hardReset();
    await vi.advanceTimersByTimeAsync(300);
    expect(hosts).toHaveLength(3);
    expect(hosts[2]!.startCauses).toEqual(['power-on']);
    await board.dispose();
  });

  it('stays in reset while the lines hold EN low at power-on, with input and output cut', async () => {
    const { board, output } = makeBoard();
    board.serialPort.setModemLines({ dtr: false, rts: true });
    board.powerOn();
    await vi.advanceTimersByTimeAsync(1000);
    expect(board.state).toBe('reset');
    expect(output()).toBe('');
    board.serialPort.setModemLines({ dtr: false, rts: false });
    await vi.advanceTimersByTimeAsync(300);
    expect(board.state).toBe('app-running');
    await board.dispose();
  });

  it('reboots on machine.reset() with a software-reset banner, and enters the ROM on machine.bootloader()', async () => {
    const { board, hosts, output, clearOutput } = makeBoard();
    board.powerOn();
    await vi.advanceTimersByTimeAsync(300);
    clearOutput();
    hosts[0]!.requestReset('hard');
    await vi.advanceTimersByTimeAsync(10);
    expect(output()).toContain('rst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n');
    expect(board.state).toBe('app-running');
    expect(hosts).toHaveLength(2);
    expect(hosts[0]!.stopCount).toBe(1);
    expect(hosts[1]!.startCauses).toEqual(['hard']);
    clearOutput();
    hosts[1]!.requestReset('bootloader');
    await vi.advanceTimersByTimeAsync(10);
    expect(board.state).toBe('rom-download');
    expect(output()).toContain('rst:0xc (SW_CPU_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n');
    // A late request from a stopped host is ignored.
    hosts[0]!.requestReset('hard');
    await vi.advanceTimersByTimeAsync(10);
    expect(board.state).toBe('rom-download');
    await board.dispose();
  });

  it('boot-loops on blank flash with ROM errors, every ~1 s, never starting MicroPython', async () => {
    const { board, hosts, output, states } = makeBoard({ image: null });
    board.powerOn();
    await vi.advanceTimersByTimeAsync(201);
    expect(board.state).toBe('boot-loop');
    expect(output()).toContain('invalid header: 0xffffffff\r\n');
    expect(output()).toContain('ets_main.c 371');
    await vi.advanceTimersByTimeAsync(1000);
    expect(output()).toContain('rst:0x10 (RTCWDT_RTC_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)');
    await vi.advanceTimersByTimeAsync(3000);
    expect(output().split('ets Jun  8 2016').length - 1).toBe(5);
    expect(hosts).toHaveLength(0);
    expect(states).toEqual(['reset', 'boot-loop']);
    // Power-off stops the loop.
    await board.powerOff();
    const frozen = output();
    await vi.advanceTimersByTimeAsync(5000);
    expect(output()).toBe(frozen);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('boot-loops with second-stage errors when the app is missing or corrupt', async () => {
    const fw = smallFirmware('esp32');
    const { board, flash, hosts, output } = makeBoard();
    flash.eraseRegion(0x10000, 0x1000);
    board.powerOn();
    await vi.advanceTimersByTimeAsync(201);
    expect(board.state).toBe('boot-loop');
    const text = output();
    expect(text).toMatch(/E \(\d+\) esp_image: image at 0x10000 has invalid magic byte \(nothing flashed here\?\)\r\n/);
    expect(text).toMatch(/E \(\d+\) boot: Factory app partition is not bootable\r\n/);
    expect(text).toMatch(/E \(\d+\) boot: No bootable app partitions in the partition table\r\n/);
    await vi.advanceTimersByTimeAsync(1000);
    expect(output()).toContain('rst:0x3 (SW_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)');

    // A flipped byte deep in the app: checksum (and hash) failure.
    flash.write(0x10000, fw.app);
    const corrupt = fw.app.slice(50_000, 50_001);
    corrupt[0] = (corrupt[0] ?? 0) ^ 0xff;
    flash.write(0x10000 + 50_000, corrupt);
    await vi.advanceTimersByTimeAsync(1000);
    expect(output()).toMatch(/E \(\d+\) esp_image: Checksum failed\. calculated 0x[0-9a-f]+, read 0x[0-9a-f]+\r\n/);
    expect(hosts).toHaveLength(0);

    // Flashing the good app again lets the next loop iteration boot.
    flash.write(0x10000 + 50_000, fw.app.subarray(50_000, 50_001));
    await vi.advanceTimersByTimeAsync(1000);
    expect(board.state).toBe('app-running');
    expect(hosts).toHaveLength(1);
    await board.dispose();
  });

  it('refuses an app built for another chip', async () => {
    const esp32 = smallFirmware('esp32');
    const s3 = smallFirmware('esp32s3');
    const { board, hosts, output } = makeBoard({
      image: { parts: [esp32.parts[0]!, esp32.parts[1]!, { offset: 0x10000, data: s3.app }] },
    });
    board.powerOn();
    await vi.advanceTimersByTimeAsync(201);
    expect(board.state).toBe('boot-loop');
    expect(output()).toMatch(/E \(\d+\) boot_comm: mismatch chip ID, expected 0, found 9\r\n/);
    expect(hosts).toHaveLength(0);
    await board.dispose();
  });

  it('runs a valid non-MicroPython app: prints its project and version and idles', async () => {
    const hello = smallFirmware('esp32', '1.0', { projectName: 'hello_world' });
    const { board, hosts, output } = makeBoard({ image: hello });
    board.powerOn();
    await vi.advanceTimersByTimeAsync(300);
    expect(board.state).toBe('app-running');
    expect(output()).toMatch(/I \(\d+\) app_init: Project name: {5}hello_world\r\n/);
    expect(output()).toMatch(/I \(\d+\) app_init: App version: {6}1\.0\r\n/);
    expect(hosts).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
    await board.dispose();
  });

  it('paces boot output at the wire rate at speed factor 1', async () => {
    const { board, output } = makeBoard({ speedFactor: 1 });
    board.powerOn();
    await vi.advanceTimersByTimeAsync(5200);
    const bootBytes = new TextEncoder().encode(output()).length;
    board.hardReset();
    await vi.advanceTimersByTimeAsync(200); // strapping window: nothing yet
    const before = new TextEncoder().encode(output()).length;
    await vi.advanceTimersByTimeAsync(50);
    const after50 = new TextEncoder().encode(output()).length - before;
    // At most 11.52 bytes/ms (+ rounding) leave the wire in 50 ms: much less than the whole boot text.
    expect(after50).toBeLessThanOrEqual(577);
    expect(after50).toBeGreaterThan(400);
    expect(bootBytes).toBeGreaterThan(1000);
    await board.dispose();
  });

  it('keeps the filesystem in the vfs partition across power cycles and loses it on erase', async () => {
    const { board, flash, hosts } = makeBoard();
    board.powerOn();
    await vi.advanceTimersByTimeAsync(300);
    hosts[0]!.options.filesystem.write(new TextEncoder().encode('main.py contents'));
    await board.powerOff();
    board.powerOn();
    await vi.advanceTimersByTimeAsync(300);
    expect(new TextDecoder().decode(hosts[1]!.options.filesystem.read() ?? new Uint8Array())).toBe('main.py contents');
    flash.eraseRegion(0x200000, 0x1000);
    expect(hosts[1]!.options.filesystem.read()).toBeNull();
    await board.dispose();
  });

  it('hands host bytes to the ROM loader session in download mode and lets it reboot the chip', async () => {
    const events: string[] = [];
    const romLoader: RomLoader = {
      start(context) {
        events.push(`start ${context.chip}`);
        return {
          receive(data) {
            events.push(`rx ${[...data].join(',')}`);
            context.transmit(new Uint8Array([0xc0, 0x01, 0xc0]));
            if (data[0] === 0xff) void context.whenTransmitDrained().then(() => context.reboot('normal'));
          },
          stop: () => events.push('stop'),
        };
      },
    };
    const { board, hosts } = makeBoard({ romLoader });
    board.serialPort.setModemLines({ dtr: true, rts: false }); // GPIO0 held low at power-on
    board.powerOn();
    await vi.advanceTimersByTimeAsync(300);
    expect(board.state).toBe('rom-download');
    const raw: number[] = [];
    const unsubscribe = board.serialPort.onTransmit((chunk) => raw.push(...chunk));
    board.serialPort.receiveFromHost(new Uint8Array([1, 2]));
    await vi.advanceTimersByTimeAsync(1);
    expect(raw).toEqual([0xc0, 0x01, 0xc0]);
    unsubscribe();
    board.serialPort.receiveFromHost(new Uint8Array([0xff]));
    await vi.advanceTimersByTimeAsync(10);
    expect(board.state).toBe('app-running');
    expect(events).toEqual(['start esp32', 'rx 1,2', 'rx 255', 'stop']);
    expect(hosts).toHaveLength(1);
    await board.dispose();
  });

  it('writes stock firmware only into a new flash file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hil-board-'));
    try {
      const path = join(dir, 'flash.bin');
      const created = FlashStore.open(path, 4 * 1024 * 1024);
      expect(provisionStockFirmware(created, () => smallFirmware('esp32'))).toBe(true);
      expect(created.read(0x1000, 1)[0]).toBe(0xe9);
      created.eraseRegion(0x1000, 0x1000);
      created.close();
      const existing = FlashStore.open(path, 4 * 1024 * 1024);
      let built = false;
      expect(provisionStockFirmware(existing, () => ((built = true), smallFirmware('esp32')))).toBe(false);
      expect(built).toBe(false);
      expect(existing.read(0x1000, 1)[0]).toBe(0xff);
      existing.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
