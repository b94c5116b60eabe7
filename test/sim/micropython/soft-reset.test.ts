/**
 * Soft reset from the raw and the friendly REPL, SystemExit, boot scripts and `_boot.py` globals
 * (micropython-host-protocols.md §1.5, §2.1–§2.3, §11.4–§11.5).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFsImage, type FsImageEntry } from '../../../sim/micropython/fs-image.ts';
import { BANNER, HostHarness, MemoryFilesystemStore } from './host-harness.ts';

const RAW_BANNER = 'raw REPL; CTRL-B to exit\r\n>';

function storeWith(files: Record<string, string>): MemoryFilesystemStore {
  const entries: FsImageEntry[] = Object.entries(files).map(([path, text]) => ({ kind: 'file', path, data: new TextEncoder().encode(text) }));
  return new MemoryFilesystemStore(1024 * 1024, encodeFsImage(entries));
}

const harnesses: HostHarness[] = [];
async function boot(files: Record<string, string>): Promise<{ board: HostHarness; bootOutput: string }> {
  const { harness, bootOutput } = await HostHarness.boot({ store: storeWith(files) });
  harnesses.push(harness);
  return { board: harness, bootOutput };
}

afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.stop()));
});

const SCRIPTS = { 'boot.py': 'print("boot ran")\n', 'main.py': 'print("main ran")\n' };

describe('power-on', () => {
  it('runs boot.py then main.py, then prints the banner', async () => {
    const { bootOutput } = await boot(SCRIPTS);
    expect(bootOutput).toBe(`boot ran\r\nmain ran\r\n${BANNER}`);
  });

  it('skips main.py when boot.py raised, after printing the traceback', async () => {
    const { bootOutput } = await boot({ 'boot.py': 'print("boot")\nundefined_name\n', 'main.py': 'print("main ran")\n' });
    expect(bootOutput).toBe(
      `boot\r\nTraceback (most recent call last):\r\n  File "boot.py", line 2, in <module>\r\nNameError: name 'undefined_name' isn't defined\r\n${BANNER}`,
    );
  });
});

describe('soft reset from the raw REPL', () => {
  it('prints OK, the soft-reboot notice and boot.py output, skips main.py and stays raw', async () => {
    const { board } = await boot(SCRIPTS);
    await board.enterRawRepl();
    expect(await board.execRaw('hil_marker = 1')).toEqual({ stdout: '', stderr: '' });
    board.send('\x04');
    expect(await board.readUntil(RAW_BANNER)).toBe(`OK\r\nMPY: soft reboot\r\nboot ran\r\n${RAW_BANNER}`);
    const after = await board.execRaw('import machine\nprint("hil_marker" in globals(), machine.reset_cause() == machine.SOFT_RESET)');
    expect(after).toEqual({ stdout: 'False True\r\n', stderr: '' });
  });

  it('soft-resets after SystemExit, machine.soft_reset() and sys.exit() in raw-paste', async () => {
    const { board } = await boot(SCRIPTS);
    await board.enterRawRepl();
    board.send('raise SystemExit\x04');
    expect(await board.readUntil(RAW_BANNER)).toBe(`OK\x04\x04MPY: soft reboot\r\nboot ran\r\n${RAW_BANNER}`);
    board.send('import machine\nmachine.soft_reset()\x04');
    expect(await board.readUntil(RAW_BANNER)).toBe(`OK\x04\x04MPY: soft reboot\r\nboot ran\r\n${RAW_BANNER}`);
    board.send('\x05A\x01');
    await board.readUntil('R\x01\x80\x00\x01');
    board.send('import sys\nprint("bye")\nsys.exit()\x04');
    expect(await board.readUntil(RAW_BANNER)).toBe(`\x04bye\r\n\x04\x04MPY: soft reboot\r\nboot ran\r\n${RAW_BANNER}`);
  });

  it('makes gc and vfs globals of __main__, as _boot.py does', async () => {
    const { board } = await boot({});
    await board.enterRawRepl();
    board.send('\x04');
    await board.readUntil(RAW_BANNER);
    expect(await board.execRaw('print(type(gc.mem_free()).__name__, "mount" in dir(vfs))')).toEqual({ stdout: 'int True\r\n', stderr: '' });
  });
});

describe('soft reset from the friendly REPL', () => {
  it('Ctrl-D on an empty line reruns boot.py and main.py and prints the banner', async () => {
    const { board } = await boot(SCRIPTS);
    board.send('x = 5\r');
    await board.readUntil('>>> ');
    board.send('\x04');
    expect(await board.readUntil('>>> ')).toBe(`\r\nMPY: soft reboot\r\nboot ran\r\nmain ran\r\n${BANNER}`);
    board.send('x\r');
    expect(await board.readUntil('>>> ')).toMatch(/NameError: name 'x' isn't defined\r\n>>> $/);
  });

  it('soft-resets again when main.py ends with sys.exit()', async () => {
    const { board, bootOutput } = await boot({
      'boot.py': 'print("boot ran")\n',
      'main.py': 'import os, sys\nif "once" not in os.listdir():\n    open("once", "w").close()\n    print("exiting")\n    sys.exit()\nprint("second main")\n',
    });
    expect(bootOutput).toBe(`boot ran\r\nexiting\r\nMPY: soft reboot\r\nboot ran\r\nsecond main\r\n${BANNER}`);
    board.send('import os\r');
    await board.readUntil('>>> ');
  });
});

describe('first boot on a blank filesystem', () => {
  it('performs the initial setup and writes the default boot.py', async () => {
    const store = new MemoryFilesystemStore();
    const { harness, bootOutput } = await HostHarness.boot({ store });
    harnesses.push(harness);
    expect(bootOutput).toBe(`Performing initial setup\r\n${BANNER}`);
    await harness.enterRawRepl();
    const { stdout } = await harness.execRaw('import os\nprint(os.listdir("/"))\nprint(open("boot.py").read())');
    expect(stdout).toBe(
      "['boot.py']\r\n# This file is executed on every boot (including wake-boot from deepsleep)\r\n#import esp\r\n#esp.osdebug(None)\r\n#import webrepl\r\n#webrepl.start()\r\n\r\n",
    );
    expect(store.image).not.toBeNull();
  });
});
