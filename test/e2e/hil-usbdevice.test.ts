/**
 * `hil run suites/usbdevice suites/soft-reset` on a virtual bench of one ESP32-S3 (native USB) and one
 * ESP32 (CP2104 bridge): runtime USB interfaces seen from the host, transfers, a board whose REPL port
 * is removed and recovered by a hub port power cycle, every soft-reset path with and without a runtime
 * interface — the ESP32's USB tests skipped with the reason — and the reconnection times in the JUnit.
 * Also: a runtime device whose descriptors a host refuses fails visibly on the host side.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runHil } from './hil-cli.ts';

const work = mkdtempSync(join(tmpdir(), 'hil-usbd-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const env = { XDG_STATE_HOME: join(work, 'state') };

const benchFile = join(work, 'bench.yaml');
writeFileSync(benchFile, `
name: usbd-lab
kind: virtual
hubs: [ { id: hub1, portPath: "1-1", ports: 4, perPortPower: true } ]
boards:
  - { id: s3-a, chip: esp32s3, hub: hub1, hubPort: 1, flash: 8MB, usb: native }
  - { id: e1, chip: esp32, hub: hub1, hubPort: 2, flash: 4MB, usb: uart-bridge }
`);

describe('hil run suites/usbdevice suites/soft-reset on the virtual lab', () => {
  it('passes, skips the ESP32 with the reason and records reconnection times', async () => {
    const junit = join(work, 'usb.xml');
    const run = await runHil(['run', 'suites/usbdevice', 'suites/soft-reset', '--bench', benchFile, '--junit', junit], { env, timeoutMs: 240_000 });
    const output = run.stdout + run.stderr;
    expect(run.code, output).toBe(0);
    expect(output).toMatch(/✓ usbdevice \[s3-a\] › BUILTIN_NONE removes the REPL port; the rig recovers the board/);
    expect(output).toMatch(/○ usbdevice \[e1\] › runtime HID interface beside the built-in CDC skipped: the ESP32 has no native USB/);
    const xml = readFileSync(junit, 'utf8');
    // The HID interface as the host read it: numbered after the built-in CDC (itf_max 2, ep_max 3, str_max 5).
    expect(xml).toContain('name="usbInterfaces" value="0:02/02/00[81]&quot;Board CDC&quot; 1:0a/00/00[02,82] 2:03/01/01[83]&quot;HIL keyboard&quot;"');
    expect(xml).toMatch(/name="recoveredBy" value="power-cycle"/);
    expect(xml).toMatch(/name="usbIdWithoutRepl" value="303a:4001"/);
    const reconnects = [...xml.matchAll(/name="reconnectMs" value="(\d+)"/g)].map((m) => Number(m[1]));
    expect(reconnects.length).toBeGreaterThanOrEqual(8);
    for (const ms of reconnects) expect(ms).toBeGreaterThan(0);
    const attempts = [...xml.matchAll(/name="reconnectAttempts" value="(\d+)"/g)].map((m) => Number(m[1]));
    expect(attempts.every((n) => n === 1)).toBe(true);
    expect(xml).toMatch(/name="bulkLoopbackBytesPerSecond" value="\d+"/);
  }, 300_000);

  it('a runtime device with descriptors a host refuses is not enumerated; the rig names the failure', async () => {
    const suite = join(work, 'suites', 'bad-descriptors');
    mkdirSync(suite, { recursive: true });
    writeFileSync(join(suite, 'suite.yaml'), `
name: bad-descriptors
boards: { count: 1, placement: each-board, chips: [esp32s3] }
tests:
  - name: bNumInterfaces that lies
    steps:
      - exec: bad.py
        reconnect: true
        timeoutMs: 3000
`);
    // The built-in configuration plus a vendor interface, but bNumInterfaces left at 2.
    writeFileSync(join(suite, 'bad.py'), [
      'import machine, struct', 'u = machine.USBDevice()', 'b = u.BUILTIN_CDC',
      'cfg = bytearray(b.desc_cfg) + bytes((9, 4, 2, 0, 0, 0xff, 0, 0, 0))', 'struct.pack_into("<H", cfg, 2, len(cfg))',
      'u.builtin_driver = b', 'u.config(b.desc_dev, bytes(cfg))', 'u.active(True)', '',
    ].join('\n'));
    const run = await runHil(['run', suite, '--bench', benchFile], { env, timeoutMs: 120_000 });
    const output = run.stdout + run.stderr;
    expect(run.code, output).not.toBe(0);
    expect(output).toMatch(/BOARD_NOT_ENUMERATED|not enumerated|refused/);
    expect(output).toMatch(/num-interfaces-mismatch|bNumInterfaces/);
  }, 300_000);
});
