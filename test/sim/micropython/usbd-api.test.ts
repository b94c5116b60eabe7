/**
 * `machine.USBDevice` as Python sees it (micropython-host-protocols.md §8.1–8.3): where it exists,
 * the singleton, the BUILTIN_* constants and every error the firmware raises.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { builtinCdcDevice } from '../../../sim/usbd/builtin-cdc-device.ts';
import { UsbdTestBoard } from './usbd-test-board.ts';

const MAC = Uint8Array.of(0x7c, 0xdf, 0xa1, 0x10, 0x20, 0x30);

describe('availability', () => {
  const boards: UsbdTestBoard[] = [];
  afterAll(async () => {
    await Promise.all(boards.map((b) => b.stop()));
  });

  it.each([
    ['esp32s3', 'v1.24.1', 'True'],
    ['esp32s3', 'v1.25.0-preview.12.gabcdef', 'True'],
    ['esp32s3', 'v1.23.0', 'False'],
    ['esp32', 'v1.24.1', 'False'],
  ] as const)('%s running %s: hasattr(machine, "USBDevice") is %s', async (chip, version, expected) => {
    const board = await UsbdTestBoard.boot({ chip, firmware: { version, buildDate: '2024-11-29', boardName: 'Generic', mcuName: 'ESP32S3' }, port: null });
    boards.push(board);
    expect(await board.run('import machine\nprint(hasattr(machine, "USBDevice"))')).toBe(`${expected}\r\n`);
    if (expected === 'False') {
      const { stderr } = await board.exec('import machine\nmachine.USBDevice()');
      expect(stderr).toMatch(/AttributeError: .*'USBDevice'/);
    }
  });
});

describe('on an ESP32-S3 with v1.24.1', () => {
  let board: UsbdTestBoard;
  beforeAll(async () => {
    board = await UsbdTestBoard.boot({ port: null });
  });
  afterAll(async () => {
    await board.stop();
  });
  // A fresh VM (and so a fresh singleton) for every test.
  beforeEach(async () => {
    await board.softReset();
  });

  const run = async (code: string): Promise<string> => board.run(`import machine\nu = machine.USBDevice()\n${code}`);
  const raises = async (code: string): Promise<string> => {
    const { stderr } = await board.exec(`import machine\nu = machine.USBDevice()\n${code}`);
    return stderr.trim().split('\r\n').at(-1) ?? '';
  };

  it('is a singleton, inactive, with BUILTIN_NONE selected', async () => {
    expect(await run('print(u is machine.USBDevice(), u.active(), u.builtin_driver is u.BUILTIN_NONE)')).toBe('True False True\r\n');
  });

  it('keeps its state across calls of the constructor', async () => {
    expect(await run('u.builtin_driver = u.BUILTIN_CDC\nprint(machine.USBDevice().builtin_driver is u.BUILTIN_DEFAULT)')).toBe('True\r\n');
  });

  it('drops the singleton at a soft reset', async () => {
    await run('u.builtin_driver = u.BUILTIN_CDC\nu.active(True)\nimport builtins\nbuiltins.hil_old = u');
    await board.softReset();
    expect(await run('import builtins\nprint(hasattr(builtins, "hil_old"), u.active(), u.builtin_driver is u.BUILTIN_NONE)')).toBe('False False True\r\n');
  });

  it('describes the built-in CDC in BUILTIN_DEFAULT, which BUILTIN_CDC is', async () => {
    const cdc = builtinCdcDevice(MAC, 'v1.24.1');
    const out = await run(
      'b = machine.USBDevice.BUILTIN_DEFAULT\nprint(b is u.BUILTIN_CDC, b.itf_max, b.ep_max, b.str_max)\nprint(b.desc_dev.hex())\nprint(b.desc_cfg.hex())',
    );
    expect(out).toBe(`True 2 3 5\r\n${Buffer.from(cdc.deviceDescriptor).toString('hex')}\r\n${Buffer.from(cdc.configurationDescriptor).toString('hex')}\r\n`);
  });

  it('describes no built-in driver in BUILTIN_NONE (the built-in device descriptor, an empty configuration)', async () => {
    const cdc = builtinCdcDevice(MAC, 'v1.24.1');
    const out = await run('b = u.BUILTIN_NONE\nprint(b.itf_max, b.ep_max, b.str_max, b.desc_cfg, b.desc_dev.hex())');
    expect(out).toBe(`0 0 1 b'' ${Buffer.from(cdc.deviceDescriptor).toString('hex')}\r\n`);
  });

  it('has read-only BUILTIN fields', async () => {
    expect(await raises('u.BUILTIN_DEFAULT.itf_max = 9')).toMatch(/^AttributeError/);
  });

  it('returns the previous state from active()', async () => {
    expect(await run('u.builtin_driver = u.BUILTIN_CDC\nprint(u.active(True), u.active(True), u.active(), u.active(False), u.active())')).toBe(
      'False True True True False\r\n',
    );
  });

  it('raises OSError(EINVAL) when activated with neither config() nor a built-in driver', async () => {
    expect(await raises('u.active(True)')).toBe('OSError: [Errno 22] EINVAL');
    expect(await run('print(u.active())')).toBe('False\r\n');
  });

  it('raises OSError(EINVAL) when builtin_driver changes while active', async () => {
    expect(await raises('u.builtin_driver = u.BUILTIN_CDC\nu.active(True)\nu.builtin_driver = u.BUILTIN_NONE')).toBe('OSError: [Errno 22] EINVAL');
  });

  it('raises OSError(EINVAL) from submit_xfer and stall while inactive', async () => {
    expect(await raises('u.submit_xfer(0x81, b"x")')).toBe('OSError: [Errno 22] EINVAL');
    expect(await raises('u.stall(0x81)')).toBe('OSError: [Errno 22] EINVAL');
  });

  it('raises ValueError naming a descriptor without the buffer protocol, as extmod/machine_usb_device.c does', async () => {
    expect(await raises('u.config(18, b"")')).toBe('ValueError: desc_dev');
    expect(await raises('u.config(b"", None)')).toBe('ValueError: desc_cfg');
    expect(await raises('u.config(b"", b"", 5)')).toBe('ValueError: desc_strs');
    expect(await run('u.config(bytearray(18), memoryview(b"abc"), {1: "x"})\nprint("ok")')).toBe('ok\r\n');
  });

  it('checks submit_xfer arguments: endpoint number, buffer direction', async () => {
    const out = await run(
      [
        'u.builtin_driver = u.BUILTIN_CDC',
        'u.active(True)',
        'for ep, buf in ((0x80, b"x"), (0x07, bytearray(1)), (0x02, b"read-only"), (0x82, 5), ("1", bytearray(1))):',
        '    try:',
        '        u.submit_xfer(ep, buf)',
        '    except Exception as e:',
        '        print(type(e).__name__, e)',
      ].join('\n'),
    );
    expect(out.split('\r\n')).toEqual([
      'ValueError ep',
      'ValueError ep',
      'TypeError object with buffer protocol required',
      'TypeError object with buffer protocol required',
      "TypeError can't convert str to int",
      '',
    ]);
  });

  it('refuses transfers before the host configured the device, keeps stall flags, cannot wake the host', async () => {
    const out = await run(
      'u.builtin_driver = u.BUILTIN_CDC\nu.active(True)\nprint(u.submit_xfer(0x83, b"x"), u.submit_xfer(0x04, bytearray(8)))\n' +
        'print(u.stall(0x83), u.stall(0x83, True), u.stall(0x83), u.stall(0x83, False), u.stall(0x83))\nprint(u.remote_wakeup())',
    );
    expect(out).toBe('False False\r\nFalse False True True False\r\nFalse\r\n');
  });
});
