/**
 * Host lifecycle: persistence of the board filesystem, reset requests, stopping a stuck interpreter
 * and an idle host's CPU use.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BANNER, HostHarness, MemoryFilesystemStore } from './host-harness.ts';

const harnesses: HostHarness[] = [];
async function boot(...args: Parameters<typeof HostHarness.boot>): Promise<HostHarness> {
  const { harness } = await HostHarness.boot(...args);
  harnesses.push(harness);
  return harness;
}

afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.stop()));
});

describe('filesystem persistence', () => {
  it('keeps files, directories and binary contents across a stop and a new host on the same store', async () => {
    const store = new MemoryFilesystemStore();
    const first = await boot({ store });
    await first.enterRawRepl();
    await first.execRaw('import os\nos.mkdir("data")\nwith open("data/blob.bin", "wb") as f:\n    f.write(bytes(range(256)))\nwith open("main.py", "w") as f:\n    f.write("print(\'main says hi\')\\n")');
    await first.stop();
    expect(store.writes).toBeGreaterThan(0);

    const { harness: second, bootOutput } = await HostHarness.boot({ store });
    harnesses.push(second);
    expect(bootOutput).toBe(`main says hi\r\n${BANNER}`);
    await second.enterRawRepl();
    expect(await second.execRaw('print(sorted(os.listdir()) if "os" in globals() else None)\nimport os\nprint(sorted(os.listdir("/")), open("data/blob.bin", "rb").read() == bytes(range(256)))')).toEqual({
      stdout: "None\r\n['boot.py', 'data', 'main.py'] True\r\n",
      stderr: '',
    });
  });

  it('restarts the same host object with its files', async () => {
    const board = await boot();
    await board.enterRawRepl();
    await board.execRaw('with open("note.txt", "w") as f:\n    f.write("kept")');
    await board.host.start('hard');
    await board.readUntil('>>> ');
    await board.enterRawRepl();
    expect(await board.execRaw('import machine\nprint(open("note.txt").read(), machine.reset_cause() == machine.HARD_RESET)')).toEqual({ stdout: 'kept True\r\n', stderr: '' });
  });

  it('treats a corrupt image as a blank filesystem', async () => {
    const store = new MemoryFilesystemStore(1024 * 1024, Uint8Array.from([0x48, 0x49, 0x4c, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]));
    const { harness, bootOutput } = await HostHarness.boot({ store });
    harnesses.push(harness);
    expect(bootOutput).toBe(`Performing initial setup\r\n${BANNER}`);
  });
});

describe('reset requests', () => {
  it('machine.reset() asks the board for a hard reset and never returns', async () => {
    const store = new MemoryFilesystemStore();
    const board = await boot({ store });
    await board.enterRawRepl();
    board.send('open("before_reset.txt", "w").write("x")\nimport machine\nprint("resetting")\nmachine.reset()\nprint("not reached")\x04');
    await board.readUntil('resetting\r\n');
    await expect.poll(() => board.resetRequests).toEqual(['hard']);
    expect(board.pending).toBe('');
    await board.stop();
    const { harness: after } = await HostHarness.boot({ store });
    harnesses.push(after);
    await after.enterRawRepl();
    expect((await after.execRaw('import os\nprint("before_reset.txt" in os.listdir())')).stdout).toBe('True\r\n');
  });

  it('machine.bootloader() asks for the ROM download mode', async () => {
    const board = await boot();
    await board.enterRawRepl();
    board.send('import machine\nmachine.bootloader()\x04');
    await expect.poll(() => board.resetRequests).toEqual(['bootloader']);
  });
});

describe('stopping', () => {
  it('stop() ends an interpreter stuck in a busy loop, and input after stop is ignored', async () => {
    const board = await boot();
    board.send('import micropython\r');
    await board.readUntil('>>> ');
    board.send('micropython.kbd_intr(-1)\r');
    await board.readUntil('>>> ');
    board.send('while True: pass\r');
    await board.readUntil('while True: pass\r\n');
    board.send('\x03'); // ignored: Ctrl-C is disabled, the loop cannot be interrupted
    await board.stop();
    expect(() => board.send('print(1)\r')).not.toThrow();
  });
});

describe('idle', () => {
  it('uses (almost) no CPU while waiting at the prompt', async () => {
    const board = await boot();
    board.send('1\r');
    await board.readUntil('>>> ');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const before = process.cpuUsage();
    const startedAt = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const used = process.cpuUsage(before);
    const elapsedMs = performance.now() - startedAt;
    const cpuMs = (used.user + used.system) / 1000;
    // Generous: the whole test process (vitest included) below 5% of one core.
    expect(cpuMs / elapsedMs).toBeLessThan(0.05);
  });
});
