/**
 * What the board's USB device controller is told about the bus (micropython-host-protocols.md §8.2,
 * §8.5, mp_usbd_runtime.c): power-on connects the built-in CDC after boot.py; active(True) disconnects
 * and reconnects presenting the runtime device with its built-in driver; active(False) leaves the bus;
 * desc_strs resolves to the contract's string table; stopping the interpreter detaches the firmware.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { UsbdFirmwareMessage } from '../../../sim/usbd/board-usb-port.ts';
import { UsbdTestBoard } from './usbd-test-board.ts';

const boards: UsbdTestBoard[] = [];
async function boot(files?: Record<string, string>): Promise<UsbdTestBoard> {
  const board = await UsbdTestBoard.boot(files === undefined ? {} : { files });
  boards.push(board);
  return board;
}
afterEach(async () => {
  await Promise.all(boards.splice(0).map((b) => b.stop()));
});

const DEV = '12011001000000401a2b3c4d000101020301';
const CFG = '09022000010100803209040000020aff000007050102400000070581024000 00'.replace(/ /g, '');
const CONFIGURE = `import machine\nu = machine.USBDevice()\nu.config(bytes.fromhex("${DEV}"), bytes.fromhex("${CFG}"), STRS)\n`;

function connects(messages: UsbdFirmwareMessage[]): Extract<UsbdFirmwareMessage, { kind: 'connect' }>[] {
  return messages.flatMap((m) => (m.kind === 'connect' ? [m] : []));
}

describe('power-on', () => {
  it('attaches the firmware, then connects the built-in CDC alone after boot.py ran', async () => {
    const board = await boot({ 'boot.py': 'print("boot ran")\n' });
    const entries = board.timeline.entries;
    expect(entries[0]).toEqual({ kind: 'attach' });
    const bootAt = entries.findIndex((e) => e.kind === 'console' && e.text.includes('boot ran'));
    const connectAt = entries.findIndex((e) => e.kind === 'usb');
    expect(bootAt).toBeGreaterThan(0);
    expect(connectAt).toBeGreaterThan(bootAt);
    expect(board.usb.messages()).toEqual([{ kind: 'connect', builtin: 'cdc', runtime: null }]);
  });

  it('detaches the firmware when the interpreter stops', async () => {
    const board = await boot();
    await board.stop();
    expect(board.timeline.entries.at(-1)).toEqual({ kind: 'detach' });
  });
});

describe('active()', () => {
  it('active(True) disconnects, then connects the runtime device with its built-in driver and strings', async () => {
    const board = await boot();
    await board.run(`STRS = [None, "Maker", None, "x" * 50, b"by\\x00tes"]\n${CONFIGURE}u.builtin_driver = u.BUILTIN_CDC\nu.active(True)`);
    const messages = board.usb.messages();
    expect(messages.map((m) => m.kind)).toEqual(['connect', 'disconnect', 'connect']);
    const runtime = messages[2];
    if (runtime?.kind !== 'connect' || runtime.runtime === null) throw new Error(`expected a runtime connect, got ${JSON.stringify(runtime)}`);
    expect(runtime.builtin).toBe('cdc');
    expect(Buffer.from(runtime.runtime.deviceDescriptor).toString('hex')).toBe(DEV);
    expect(Buffer.from(runtime.runtime.configurationDescriptor).toString('hex')).toBe(CFG);
    const strings = runtime.runtime.strings;
    expect(strings).toHaveLength(256);
    // Index 0 (languages) is never given; None and missing indexes fall back to the built-in string;
    // text stops at NUL and is cut to MICROPY_HW_USB_DESC_STR_MAX (40) characters.
    expect(strings.slice(0, 6)).toEqual([null, 'Maker', null, 'x'.repeat(40), 'by', null]);
    expect(strings.slice(5).every((s) => s === null)).toBe(true);
  });

  it('resolves desc_strs from a dict and from any subscriptable object, KeyError/IndexError meaning built-in', async () => {
    const board = await boot();
    await board.run(
      [
        'class Strs:',
        '    def __getitem__(self, i):',
        '        if i == 7:',
        '            return "seven"',
        '        raise IndexError',
        `STRS = {2: "two", 3: None}\n${CONFIGURE}u.active(True)`,
        'u.active(False)',
        'u.config(u.BUILTIN_NONE.desc_dev, bytes.fromhex("' + CFG + '"), Strs())',
        'u.active(True)',
      ].join('\n'),
    );
    const [, fromDict, fromObject] = connects(board.usb.messages());
    expect(fromDict?.runtime?.strings.flatMap((s, i) => (s === null ? [] : [[i, s]]))).toEqual([[2, 'two']]);
    expect(fromObject?.runtime?.strings.flatMap((s, i) => (s === null ? [] : [[i, s]]))).toEqual([[7, 'seven']]);
    expect(fromDict?.builtin).toBe('none');
  });

  it('activating the built-in driver alone presents the built-in CDC again', async () => {
    const board = await boot();
    await board.run('import machine\nu = machine.USBDevice()\nu.builtin_driver = u.BUILTIN_DEFAULT\nu.active(True)');
    expect(board.usb.messages()).toEqual([
      { kind: 'connect', builtin: 'cdc', runtime: null },
      { kind: 'disconnect' },
      { kind: 'connect', builtin: 'cdc', runtime: null },
    ]);
  });

  it('active(False) takes the whole device off the bus until active(True)', async () => {
    const board = await boot();
    await board.run(`STRS = None\n${CONFIGURE}u.active(True)\nu.active(False)`);
    expect(board.usb.messages().map((m) => m.kind)).toEqual(['connect', 'disconnect', 'connect', 'disconnect']);
    await board.run('u.active(True)');
    // Off the bus already: no second disconnect before the connect.
    expect(board.usb.messages().map((m) => m.kind)).toEqual(['connect', 'disconnect', 'connect', 'disconnect', 'connect']);
  });

  it('posts nothing when the state does not change, nor for config() while active', async () => {
    const board = await boot();
    await board.run(`STRS = None\n${CONFIGURE}u.active(True)`);
    const before = board.usb.messages().length;
    await board.run(`u.active(True)\nu.config(bytes.fromhex("${DEV}"), b"")\nprint(u.active())`);
    expect(board.usb.messages()).toHaveLength(before);
  });
});
