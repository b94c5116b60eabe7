import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeBoard, smallFirmware } from './board-fixture.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

async function lines(port: { setModemLines(l: { dtr: boolean; rts: boolean }): void }, steps: [number, number][], gapMs = 50) {
  for (const [dtr, rts] of steps) {
    port.setModemLines({ dtr: dtr === 1, rts: rts === 1 });
    await vi.advanceTimersByTimeAsync(gapMs);
  }
}

const MAC_COLON = '24:6F:28:AA:BB:CC';

async function runningS3(version = 'v1.24.1') {
  const fixture = makeBoard({ chip: 'esp32s3', usb: { kind: 'native-usb' }, image: smallFirmware('esp32s3', version), flashSizeBytes: 8 << 20 });
  fixture.board.serialPort.setHostAttached(true);
  fixture.board.powerOn();
  await vi.advanceTimersByTimeAsync(300);
  return fixture;
}

describe('SimBoard (ESP32-S3 on native USB)', () => {
  it('boots with the S3 ROM banner and presents MicroPython\'s TinyUSB CDC identity', async () => {
    const { board, hosts, output } = await runningS3();
    expect(board.state).toBe('app-running');
    expect(output().startsWith('ESP-ROM:esp32s3-20210327\r\nBuild:Mar 27 2021\r\nrst:0x1 (POWERON),boot:0x8 (SPI_FAST_FLASH_BOOT)\r\nSPIWP:0xee\r\n')).toBe(true);
    expect(output()).toMatch(/load:0x3fce3818,len:0x[0-9a-f]+\r\n/);
    expect(hosts[0]!.options.firmware).toEqual({ version: 'v1.24.1', buildDate: '2024-11-29', boardName: 'Generic ESP32S3 module', mcuName: 'ESP32S3' });
    expect(board.usbIdentity).toEqual({
      vid: 0x303a,
      pid: 0x4001,
      manufacturer: 'Espressif Systems',
      product: 'Espressif Device',
      serialNumber: '246f28aabbcc0000',
    });
    await board.dispose();
  });

  it('reports serial 123456 for firmware up to v1.23', async () => {
    const { board } = await runningS3('v1.23.0');
    expect(board.usbIdentity?.serialNumber).toBe('123456');
    await board.dispose();
  });

  it('enters the bootloader when the CDC sees esptool\'s reset pattern (also via RFC 2217 with a (1,1) step)', async () => {
    const { board, hosts, output, clearOutput, states } = await runningS3();
    clearOutput();
    states.length = 0;
    // A terminal opening the port asserts both lines: nothing happens.
    await lines(board.serialPort, [[1, 1], [0, 0]]);
    expect(board.state).toBe('app-running');
    // esptool.py Classic over RFC 2217: (0,1) → (1,1) → (1,0) → (0,0).
    await lines(board.serialPort, [[0, 1], [1, 1], [1, 0], [0, 0]]);
    expect(board.state).toBe('rom-download');
    expect(states).toEqual(['reset', 'rom-download']);
    expect(output()).toBe('ESP-ROM:esp32s3-20210327\r\nBuild:Mar 27 2021\r\nrst:0xc (RTC_SW_CPU_RST),boot:0x0 (DOWNLOAD(USB/UART0))\r\nSaved PC:0x40375a10\r\nwaiting for download\r\n');
    expect(hosts[0]!.stopCount).toBe(1);
    expect(board.usbIdentity).toMatchObject({ vid: 0x303a, pid: 0x1001, product: 'USB JTAG/serial debug unit', serialNumber: MAC_COLON });
    await board.dispose();
  });

  it('in ROM mode, the USB-Serial-JTAG sequence re-enters download mode and an RTS pulse boots the app', async () => {
    const { board, hosts, output, clearOutput } = await runningS3();
    await lines(board.serialPort, [[0, 1], [1, 0], [0, 0]]);
    expect(board.state).toBe('rom-download');
    clearOutput();
    // esptool-js / esptool.py USBJTAGSerialReset (atomic steps): (0,0) → (1,0) → (1,1) → (0,1) → (0,0).
    await lines(board.serialPort, [[1, 0], [1, 1], [0, 1], [0, 0]], 100);
    await vi.advanceTimersByTimeAsync(200);
    expect(board.state).toBe('rom-download');
    expect(output()).toContain('rst:0x15 (USB_UART_CHIP_RESET),boot:0x0 (DOWNLOAD(USB/UART0))\r\n');
    clearOutput();
    // esptool's hard reset on native USB: RTS=1 → 200 ms → RTS=0.
    await lines(board.serialPort, [[0, 1], [0, 0]], 200);
    await vi.advanceTimersByTimeAsync(100);
    expect(board.state).toBe('app-running');
    expect(output()).toContain('rst:0x15 (USB_UART_CHIP_RESET),boot:0x8 (SPI_FAST_FLASH_BOOT)\r\n');
    expect(hosts.at(-1)!.startCauses).toEqual(['hard']);
    await board.dispose();
  });

  it('drops ROM output without a host, keeps the latest CDC output and delivers it on attach', async () => {
    const { board, output } = makeBoard({ chip: 'esp32s3', usb: { kind: 'native-usb' }, image: smallFirmware('esp32s3'), flashSizeBytes: 8 << 20 });
    board.powerOn();
    await vi.advanceTimersByTimeAsync(300);
    expect(board.state).toBe('app-running');
    expect(output()).toBe('');
    board.serialPort.setHostAttached(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(output().endsWith('Type "help()" for more information.\r\n>>> ')).toBe(true);
    expect(output()).not.toContain('ESP-ROM');
    expect(new TextEncoder().encode(output()).length).toBeLessThanOrEqual(256);
    await board.dispose();
  });
});
