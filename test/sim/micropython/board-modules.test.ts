/**
 * The board modules the simulator provides (machine, esp, os, gc, time, sys) and the board
 * filesystem as Python sees it, checked against the real ESP32 port's behaviour.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ESP32_HARDWARE, HostHarness, MemoryFilesystemStore } from './host-harness.ts';

let s3: HostHarness;
let esp32: HostHarness;
const esp32Store = new MemoryFilesystemStore(64 * 1024);

beforeAll(async () => {
  const [a, b] = await Promise.all([HostHarness.boot(), HostHarness.boot({ hardware: ESP32_HARDWARE, store: esp32Store })]);
  s3 = a.harness;
  esp32 = b.harness;
  await Promise.all([s3.enterRawRepl(), esp32.enterRawRepl()]);
});
afterAll(async () => {
  await Promise.all([s3.stop(), esp32.stop()]);
});

/** Evaluates Python on a board and returns stdout; fails on any traceback. */
async function run(board: HostHarness, code: string): Promise<string> {
  const { stdout, stderr } = await board.execRaw(code);
  expect(stderr).toBe('');
  return stdout;
}

describe('machine', () => {
  it('unique_id() is the 6-byte factory MAC', async () => {
    expect(await run(s3, 'import machine\nprint(machine.unique_id().hex())')).toBe('7cdfa1102030\r\n');
  });

  it('freq() defaults to 160 MHz, accepts the valid clocks and rejects others with ValueError', async () => {
    expect(await run(s3, 'print(machine.freq())')).toBe('160000000\r\n');
    expect(await run(s3, 'machine.freq(240000000)\nprint(machine.freq())')).toBe('240000000\r\n');
    const { stderr } = await s3.execRaw('machine.freq(100000000)');
    expect(stderr).toMatch(/ValueError: frequency must be 20MHz, 40MHz, 80Mhz, 160MHz or 240MHz\r\n$/);
    expect(await run(s3, 'print(machine.freq())')).toBe('240000000\r\n');
    expect(await run(s3, 'machine.freq(160000000)')).toBe('');
  });

  it('reset_cause() reports the cause given to start(), with the port\'s constants', async () => {
    expect(
      await run(s3, 'print(machine.reset_cause() == machine.PWRON_RESET, machine.PWRON_RESET, machine.HARD_RESET, machine.WDT_RESET, machine.DEEPSLEEP_RESET, machine.SOFT_RESET)'),
    ).toBe('True 1 2 3 4 5\r\n');
  });
});

describe('esp', () => {
  it('flash_size() is the hardware flash size and osdebug() is accepted', async () => {
    expect(await run(s3, 'import esp\nesp.osdebug(None)\nesp.osdebug(0, esp.LOG_INFO)\nprint(esp.flash_size())')).toBe('8388608\r\n');
    expect(await run(esp32, 'import esp\nprint(esp.flash_size())')).toBe('4194304\r\n');
  });
});

describe('os', () => {
  it('uname() names the firmware and board', async () => {
    expect(await run(s3, 'import os\nu = os.uname()\nprint(u)\nprint(u.sysname, u.release, u[3])')).toBe(
      "(sysname='esp32', nodename='esp32', release='1.24.1', version='v1.24.1 on 2024-11-29', machine='Generic ESP32S3 module with ESP32S3')\r\n" +
        'esp32 1.24.1 v1.24.1 on 2024-11-29\r\n',
    );
  });

  it('lists only the board files, with LittleFS-style stat and ilistdir entries', async () => {
    expect(await run(s3, 'print(os.listdir("/"), os.getcwd())')).toBe("['boot.py'] /\r\n");
    const out = await run(s3, 'os.mkdir("lib")\nopen("lib/a.py", "w").write("x = 1\\n")\nprint(os.stat("lib")[0], os.stat("lib/a.py")[0], os.stat("lib/a.py")[6])\nprint(list(os.ilistdir("lib")))');
    expect(out).toBe("16384 32768 6\r\n[('a.py', 32768, 0, 6)]\r\n");
    expect(await run(s3, 'import a\nprint(a.x)')).toBe('1\r\n');
  });

  it('renames with absolute and relative paths, from any working directory', async () => {
    const script = [
      'open("/a.txt", "w").write("x")', 'os.mkdir("/d")', 'os.chdir("/d")',
      'os.rename("/a.txt", "/d/b.txt")', 'print(os.listdir("/d"), os.getcwd())',
      'os.rename("b.txt", "c.txt")', 'os.chdir("/")', 'os.rename("d/c.txt", "/a.txt")', 'print("a.txt" in os.listdir("/"), os.listdir("/d"))',
    ].join('\n');
    expect(await run(s3, script)).toBe("['b.txt'] /d\r\nTrue []\r\n");
  });

  it('raises OSError with the board\'s errno numbers', async () => {
    const { stderr } = await s3.execRaw('open("/missing.txt")');
    expect(stderr).toMatch(/OSError: \[Errno 2\] ENOENT\r\n$/);
    expect(await run(s3, 'try:\n    os.mkdir("lib")\nexcept OSError as e:\n    print(e.errno)')).toBe('17\r\n');
  });

  it('statvfs() matches the store capacity and free space shrinks as files grow', async () => {
    const before = await run(esp32, 'import os\nprint(os.statvfs("/"))');
    const fields = before.trim().slice(1, -1).split(', ').map(Number);
    expect(fields[0]).toBe(4096);
    expect(fields[2]).toBe(Math.floor((64 * 1024 - 24) / 4096));
    const free = await run(esp32, 'f = open("big.bin", "wb")\nf.write(bytes(20000))\nf.close()\nprint(os.statvfs("/")[3])');
    expect(Number(free)).toBeLessThan(fields[3] ?? 0);
  });

  it('raises OSError 28 (ENOSPC) when a write does not fit, and the store still holds an image', async () => {
    const { stderr } = await esp32.execRaw('f = open("huge.bin", "wb")\ntry:\n    f.write(bytes(100000))\nfinally:\n    f.close()');
    expect(stderr).toMatch(/OSError: 28\r\n$/);
    expect(esp32Store.image).not.toBeNull();
    expect(esp32Store.image?.length ?? 0).toBeLessThanOrEqual(esp32Store.capacityBytes);
    await run(esp32, 'os.remove("big.bin")\nos.remove("huge.bin")');
  });
});

describe('gc', () => {
  it('reports the board heap: ~8 MB with PSRAM, ~150 KB without', async () => {
    const s3Heap = Number((await run(s3, 'import gc\ngc.collect()\nprint(gc.mem_free() + gc.mem_alloc())')).trim());
    expect(s3Heap).toBe(8 * 1024 * 1024);
    const esp32Free = Number((await run(esp32, 'import gc\ngc.collect()\nprint(gc.mem_free())')).trim());
    expect(esp32Free).toBeGreaterThan(100 * 1024);
    expect(esp32Free).toBeLessThan(160 * 1024);
  });

  it('mem_free() goes down by what is allocated, and free + alloc is the heap size', async () => {
    const out = await run(esp32, 'gc.collect()\na = gc.mem_free()\nblob = bytearray(20000)\nb = gc.mem_free()\nprint(a - b >= 20000, gc.mem_free() + gc.mem_alloc())');
    expect(out).toBe('True 153600\r\n');
  });
});

describe('time and sys', () => {
  it('has the port\'s time API with the 2000 epoch', async () => {
    const out = await run(s3, 'import time\ntime.sleep_ms(1)\ntime.sleep_us(10)\ntime.sleep(0.001)\nprint(time.gmtime(0)[:3], time.time() < 2**31, time.ticks_diff(time.ticks_add(time.ticks_us(), 5), time.ticks_us()) <= 5)');
    expect(out).toBe('(2000, 1, 1) True True\r\n');
  });

  it('identifies as esp32 in sys', async () => {
    expect(await run(s3, 'import sys\nprint(sys.platform, sys.implementation.name, sys.implementation.version, sys.version)')).toBe(
      "esp32 micropython (1, 24, 1, '') 3.4.0; MicroPython v1.24.1 on 2024-11-29\r\n",
    );
  });
});
