/**
 * Soft reset with native USB (micropython-host-protocols.md §2.3, §2.4, §8.5): an active runtime
 * device leaves the bus before `MPY: soft reboot` is printed and is dropped; after boot.py the
 * built-in CDC connects — or the runtime device boot.py activated; a soft reset without a runtime
 * device leaves the REPL port alone. Order is checked as the host thread saw it (port messages and
 * console output on one timeline).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { UsbdFirmwareMessage } from '../../../sim/usbd/board-usb-port.ts';
import { timelineIndex, UsbdTestBoard, type TimelineEntry } from './usbd-test-board.ts';

const boards: UsbdTestBoard[] = [];
async function boot(files: Record<string, string> = { 'boot.py': 'print("boot ran")\n' }): Promise<UsbdTestBoard> {
  const board = await UsbdTestBoard.boot({ files });
  boards.push(board);
  return board;
}
afterEach(async () => {
  await Promise.all(boards.splice(0).map((b) => b.stop()));
});

const RAW_BANNER = 'raw REPL; CTRL-B to exit\r\n>';
const DEV = '12011001000000401a2b3c4d000101020301';
const CFG = '0902200001010080320904020001ff000000070583024000000705040240000000';
const ACTIVATE = `import machine\nu = machine.USBDevice()\nu.config(bytes.fromhex("${DEV}"), bytes.fromhex("${CFG}"), ["", "Hil"])\nu.builtin_driver = u.BUILTIN_CDC\nu.active(True)`;
const CDC_ONLY: UsbdFirmwareMessage = { kind: 'connect', builtin: 'cdc', runtime: null };

const isUsb = (kind: UsbdFirmwareMessage['kind']) => (e: TimelineEntry): boolean => e.kind === 'usb' && e.message.kind === kind;
const printed = (text: string) => (e: TimelineEntry): boolean => e.kind === 'console' && e.text.includes(text);

/** Checks the sequence after `from`: disconnect, then the notice, then boot.py's output, then the built-in CDC. */
function expectRuntimeDropped(entries: readonly TimelineEntry[], from: number): void {
  const disconnect = timelineIndex(entries, isUsb('disconnect'), from);
  const notice = timelineIndex(entries, printed('MPY: soft reboot'), from);
  const bootOutput = timelineIndex(entries, printed('boot ran'), from);
  const connect = timelineIndex(entries, isUsb('connect'), from);
  expect(disconnect).toBeGreaterThanOrEqual(0);
  expect(notice).toBeGreaterThan(disconnect);
  expect(bootOutput).toBeGreaterThan(notice);
  expect(connect).toBeGreaterThan(bootOutput);
  expect(entries[connect]).toEqual({ kind: 'usb', message: CDC_ONLY });
}

describe('with a runtime device active', () => {
  it('Ctrl-D in the raw REPL: disconnect, MPY: soft reboot, boot.py, built-in CDC', async () => {
    const board = await boot();
    await board.run(ACTIVATE);
    const from = board.timeline.entries.length;
    const mark = board.usb.mark();
    expect(await board.softReset()).toBe(`OK\r\nMPY: soft reboot\r\nboot ran\r\n${RAW_BANNER}`);
    expectRuntimeDropped(board.timeline.entries, from);
    expect(board.usb.messages(mark)).toEqual([{ kind: 'disconnect' }, CDC_ONLY]);
    expect(await board.run('import machine\nprint(machine.USBDevice().active())')).toBe('False\r\n');
  });

  it('machine.soft_reset() and SystemExit: the same sequence', async () => {
    const board = await boot();
    for (const trigger of ['import machine\nmachine.soft_reset()', 'raise SystemExit']) {
      await board.run(ACTIVATE);
      const from = board.timeline.entries.length;
      board.send(`${trigger}\x04`);
      expect(await board.readUntil(RAW_BANNER)).toBe(`OK\x04\x04MPY: soft reboot\r\nboot ran\r\n${RAW_BANNER}`);
      expectRuntimeDropped(board.timeline.entries, from);
    }
  });

  it('after active(False) the device is off the bus: the soft reset only connects the built-in CDC', async () => {
    const board = await boot();
    await board.run(`${ACTIVATE}\nu.active(False)`);
    const mark = board.usb.mark();
    await board.softReset();
    expect(board.usb.messages(mark)).toEqual([CDC_ONLY]);
  });
});

describe('without a runtime device', () => {
  it('posts nothing: the REPL port stays as it is', async () => {
    const board = await boot();
    const mark = board.usb.mark();
    await board.run('import machine\nu = machine.USBDevice()\nu.config(b"x" * 18, b"y" * 9)');
    await board.softReset();
    board.send('raise SystemExit\x04');
    await board.readUntil(RAW_BANNER);
    expect(board.usb.messages(mark)).toEqual([]);
  });
});

describe('a runtime device configured in boot.py', () => {
  const BOOT_PY = `print("boot ran")\n${ACTIVATE}\n`;

  it('is the first device the host sees after power-on', async () => {
    const board = await boot({ 'boot.py': BOOT_PY });
    const messages = board.usb.messages();
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ kind: 'connect', builtin: 'cdc', runtime: { strings: expect.arrayContaining(['Hil']) as unknown } });
  });

  it('comes back alone after a soft reset: disconnect, notice, one connect of the runtime device', async () => {
    const board = await boot({ 'boot.py': BOOT_PY });
    const from = board.timeline.entries.length;
    const mark = board.usb.mark();
    await board.softReset();
    const entries = board.timeline.entries;
    const notice = timelineIndex(entries, printed('MPY: soft reboot'), from);
    expect(timelineIndex(entries, isUsb('disconnect'), from)).toBeLessThan(notice);
    expect(timelineIndex(entries, isUsb('connect'), from)).toBeGreaterThan(notice);
    const messages = board.usb.messages(mark);
    expect(messages.map((m) => m.kind)).toEqual(['disconnect', 'connect']);
    expect(messages[1]).toMatchObject({ runtime: { deviceDescriptor: Uint8Array.from(Buffer.from(DEV, 'hex')) } });
  });
});

describe('a USBDevice created but left inactive in boot.py', () => {
  it('keeps the device off the bus after power-on (mp_usbd_init connects only an active runtime device)', async () => {
    const board = await boot({ 'boot.py': 'import machine\nmachine.USBDevice()\n' });
    expect(board.usb.messages()).toEqual([]);
    await board.run('import machine\nu = machine.USBDevice()\nu.builtin_driver = u.BUILTIN_CDC\nu.active(True)');
    expect(board.usb.messages()).toEqual([CDC_ONLY]);
  });
});
