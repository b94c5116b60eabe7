import { mkdtempSync, rmSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openRfc2217Link } from '../../runner/link/rfc2217-link.ts';
import type { SerialLink } from '../../runner/link/serial-link.ts';
import { FlashStore } from '../../sim/board/flash-store.ts';
import { SimLab, type SimLabBoardSpec } from '../../sim/sim-lab.ts';
import { fakeHostFactory } from './board/fake-micropython-host.ts';

const dir = mkdtempSync(join(tmpdir(), 'hil-lab-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const boards: SimLabBoardSpec[] = [
  { id: 'e1', chip: 'esp32', portPath: '1-1.5', flashSizeBytes: 4 * 2 ** 20, psramBytes: 0, usb: 'uart-bridge', mac: '24:0a:c4:00:00:01' },
  { id: 's1', chip: 'esp32s3', portPath: '1-1.1', flashSizeBytes: 16 * 2 ** 20, psramBytes: 8 * 2 ** 20, usb: 'native', mac: '7c:df:a1:00:00:02' },
];

function collect(link: SerialLink): { text: () => string; waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<string> } {
  let received = '';
  link.onData((chunk) => { received += Buffer.from(chunk).toString('latin1'); });
  return {
    text: () => received,
    waitFor: async (pattern, timeoutMs = 5000) => {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(received)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; got ${JSON.stringify(received.slice(-400))}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return received;
    },
  };
}

describe('SimLab', () => {
  it('provisions stock firmware into new flash files, serves each board over RFC 2217 and boots it on an EN pulse', async () => {
    const hosts = fakeHostFactory();
    const lab = await SimLab.start({ boards, stateDir: dir, stockFirmwareVersion: 'v1.24.1', speedFactor: 0, createHost: hosts.create });
    try {
      expect(existsSync(join(dir, 'e1.flash'))).toBe(true);
      expect(statSync(join(dir, 's1.flash')).size).toBe(16 * 2 ** 20);
      expect(lab.boards.map((b) => b.url)).toEqual([expect.stringMatching(/^rfc2217:\/\/127\.0\.0\.1:\d+$/), expect.stringMatching(/^rfc2217:/)]);
      // A second lab on the same flash files is refused while this one runs.
      await expect(SimLab.start({ boards, stateDir: dir, stockFirmwareVersion: 'v1.24.1', speedFactor: 0, createHost: hosts.create }))
        .rejects.toMatchObject({ code: 'SIM_START', message: expect.stringMatching(/already running in process \d+/) });

      const link = await openRfc2217Link(lab.boards[0]!.url);
      const console = collect(link);
      await link.setSignals({ dtr: false, rts: true }); // EN low
      await new Promise((r) => setTimeout(r, 50));
      await link.setSignals({ dtr: false, rts: false }); // EN released, GPIO0 high: normal boot
      const text = await console.waitFor(/>>> $/);
      expect(text).toContain('rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)');
      expect(text).toContain('MicroPython v1.24.1 on ');
      expect(text).toContain('; Generic ESP32 module with ESP32\r\n');
      const host = hosts.hosts.at(-1);
      expect(host?.options.hardware.mac).toEqual(Uint8Array.from([0x24, 0x0a, 0xc4, 0, 0, 1]));
      expect(host?.options.firmware.version).toBe('v1.24.1');
      await link.close();
    } finally {
      await lab.close();
    }
  });

  it('boots what is in the flash after a restart: a corrupted app boot-loops with bootloader messages', async () => {
    const flash = FlashStore.open(join(dir, 'e1.flash'), 4 * 2 ** 20);
    flash.write(0x10000 + 0x100, Uint8Array.from([0xde, 0xad, 0xbe, 0xef])); // inside the app image
    flash.close();
    const hosts = fakeHostFactory();
    const lab = await SimLab.start({ boards: [boards[0]!], stateDir: dir, stockFirmwareVersion: 'v1.24.1', speedFactor: 0, createHost: hosts.create, bootLoopIntervalMs: 100 } as never);
    try {
      const link = await openRfc2217Link(lab.boards[0]!.url);
      const console = collect(link);
      await link.setSignals({ dtr: false, rts: true });
      await link.setSignals({ dtr: false, rts: false });
      await console.waitFor(/rst:0x[0-9a-f]+[\s\S]*rst:0x[0-9a-f]+/, 8000); // it reboots again by itself
      expect(console.text()).toMatch(/E \(\d+\) esp_image:/);
      expect(hosts.hosts).toHaveLength(0); // MicroPython never started
      expect(lab.boards[0]!.board.state).toBe('boot-loop');
      await link.close();
    } finally {
      await lab.close();
    }
  });
});

describe('SimLab with the real MicroPython interpreter', () => {
  it('survives a client that disconnects mid-exec: the next client interrupts the stuck code and carries on', async () => {
    const { MicroPythonRepl } = await import('../../runner/repl/micropython-repl.ts');
    const lab = await SimLab.start({ boards: [boards[0]!], stateDir: undefined, stockFirmwareVersion: 'v1.24.1', speedFactor: 0 });
    try {
      const first = await openRfc2217Link(lab.boards[0]!.url);
      const repl = new MicroPythonRepl(first, { boardId: 'e1' });
      await repl.enterRawRepl();
      const abort = new AbortController();
      const pending = repl.exec('print("started")\nwhile True:\n    pass', { timeoutMs: 60_000, signal: abort.signal });
      pending.catch(() => undefined);
      await new Promise((r) => setTimeout(r, 300));
      abort.abort();
      await first.close(); // the client goes away while the board is busy
      await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });

      const second = await openRfc2217Link(lab.boards[0]!.url);
      const next = new MicroPythonRepl(second, { boardId: 'e1' });
      await next.enterRawRepl({ timeoutMs: 10_000 }); // Ctrl-C stops the busy loop
      const result = await next.exec('print(6 * 7)');
      expect(result).toMatchObject({ stdout: '42\r\n', stderr: '' });
      expect(next.consoleText()).toContain('KeyboardInterrupt');
      await second.close();
    } finally {
      await lab.close();
    }
  });

  it('lets MicroPython read the board flash with esp.flash_read, as on hardware', async () => {
    const { MicroPythonRepl } = await import('../../runner/repl/micropython-repl.ts');
    const lab = await SimLab.start({ boards: [boards[0]!], stateDir: undefined, stockFirmwareVersion: 'v1.24.1', speedFactor: 0 });
    try {
      const link = await openRfc2217Link(lab.boards[0]!.url);
      const repl = new MicroPythonRepl(link, { boardId: 'e1' });
      await repl.enterRawRepl();
      const expected = lab.boards[0]!.board.flash.read(0x10000, 64);
      const got = await repl.evalLiteral("__import__('esp').flash_read(0x10000, 64)");
      expect(got).toEqual(expected);
      expect(expected[0]).toBe(0xe9); // the app image's magic, as flashed
      const filled = await repl.exec("import esp\nb = bytearray(4)\nesp.flash_read(0x8000, b)\nprint(b[0], b[1])\ntry:\n    esp.flash_read(0x400000, 4)\nexcept OSError as e:\n    print('OSError', e.errno)");
      expect(filled.stdout).toBe('170 80\r\nOSError 22\r\n'); // partition table magic AA 50; past the 4 MB flash
      await link.close();
    } finally {
      await lab.close();
    }
  });
});
