/**
 * `hil run suites/enumeration` on a virtual bench of two ESP32-S3 boards (native USB) and one ESP32
 * (CP2104 bridge) behind a simulated hub with per-port power: every board is power-cycled through hub
 * class requests and must come back; a firmware with MicroPython ≤1.23's shared USB serial "123456"
 * fails the suite, a v1.24 one passes. Also: two `hil run` processes never share a board.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HIL_BIN, REPO_ROOT, runHil } from './hil-cli.ts';

const work = mkdtempSync(join(tmpdir(), 'hil-enum-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const env = { XDG_STATE_HOME: join(work, 'state') };

const benchFile = join(work, 'bench.yaml');
writeFileSync(benchFile, `
name: enum-lab
kind: virtual
hubs: [ { id: hub1, portPath: "1-1", ports: 4, perPortPower: true } ]
boards:
  - { id: s3-a, chip: esp32s3, hub: hub1, hubPort: 1, flash: 8MB, usb: native }
  - { id: s3-b, chip: esp32s3, hub: hub1, hubPort: 2, flash: 8MB, usb: native }
  - { id: e1, chip: esp32, hub: hub1, hubPort: 3, flash: 4MB, usb: uart-bridge }
`);

async function firmware(version: string): Promise<string> {
  const file = join(work, `s3-${version}.bin`);
  const built = await runHil(['firmware', 'build-sim', '--chip', 'esp32s3', '--version', version, '-o', file]);
  expect(built.code, built.stderr).toBe(0);
  return file;
}

describe('hil run suites/enumeration on the virtual lab', () => {
  it('fails on the shared USB serial of a v1.23 firmware and passes with v1.24, recording enumeration times', async () => {
    const old = await runHil(['run', 'suites/enumeration', '--bench', benchFile, '--firmware', await firmware('v1.23.0')], { env, timeoutMs: 240_000 });
    expect(old.code, old.stdout + old.stderr).toBe(1);
    const output = old.stdout + old.stderr;
    expect(output).toMatch(/✓ .*every board enumerates after a hub port power cycle/);
    expect(output).toMatch(/✗ .*USB serial strings are unique.*colliding USB serial strings: "123456" × 2/);
    expect(output).toContain('s3-a (1-1.1, 303a:4001), s3-b (1-1.2, 303a:4001)');

    const junit = join(work, 'enum.xml');
    const fixed = await runHil(['run', 'suites/enumeration', '--bench', benchFile, '--firmware', await firmware('v1.24.1'), '--junit', junit], { env, timeoutMs: 240_000 });
    expect(fixed.code, fixed.stdout + fixed.stderr).toBe(0);
    const xml = readFileSync(junit, 'utf8');
    for (const board of ['s3-a', 's3-b']) {
      const ms = Number(new RegExp(`name="${board}\\.enumerationMs" value="(\\d+)"`).exec(xml)?.[1]);
      expect(ms).toBeGreaterThan(0);
      expect(ms).toBeLessThan(10_000);
      expect(xml).toContain(`name="${board}.usbId" value="303a:4001"`);
    }
    expect(xml).toMatch(/name="s3-a\.usbSerial" value="[0-9a-f]{12}0000"/);
    expect(xml).toMatch(/name="s3-a\.mac" value="([0-9a-f]{2}:){5}[0-9a-f]{2}"/);
  }, 600_000);

  it('two runs never share a board: --no-wait fails naming the holder, a waiting run says why and goes on after', async () => {
    const slow = join(work, 'suites', 'slow');
    mkdirSync(slow, { recursive: true });
    writeFileSync(join(slow, 'suite.yaml'), 'name: slow\nboards: { count: 1, placement: each-board, chips: [esp32] }\ntests:\n  - name: sleeps\n    steps:\n      - exec: sleep.py\n');
    writeFileSync(join(slow, 'sleep.py'), 'import time\ntime.sleep(4)\n');
    const first = spawn(process.execPath, [HIL_BIN, 'run', slow, '--bench', benchFile, '--board', 'e1'], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
    let firstErr = '';
    const firstDone = new Promise<number | null>((resolve) => first.on('close', resolve));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`first run never opened the bench: ${firstErr}`)), 60_000);
      first.stderr.on('data', (d: Buffer) => {
        firstErr += d.toString();
        if (firstErr.includes('opening bench')) { clearTimeout(timer); resolve(); }
      });
    });
    const refused = await runHil(['run', slow, '--bench', benchFile, '--board', 'e1', '--no-wait'], { env });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/e1 \(leased by \S+ pid \d+, `hil run .*slow`, expires in \d+ s\).*\[BOARDS_BUSY\]/);
    const waited = await runHil(['run', slow, '--bench', benchFile, '--board', 'e1'], { env, timeoutMs: 120_000 });
    expect(await firstDone).toBe(0);
    expect(waited.stderr).toMatch(/waiting for e1 \(leased by/);
    expect(waited.code, waited.stderr).toBe(0);
  }, 240_000);

  it('hil power switches one board\'s hub port and refuses a port with no board', async () => {
    const cycled = await runHil(['power', 'cycle', 's3-b', '--bench', benchFile, '--off-ms', '200'], { env });
    expect(cycled.code, cycled.stderr).toBe(0);
    expect(cycled.stdout).toContain('s3-b: hub 1-1 port 2 power-cycled (off 200 ms)');
    const empty = await runHil(['power', 'off', '1-1.4', '--bench', benchFile], { env });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/no board of bench "enum-lab" is on port 1-1\.4 .*\[PORT_EMPTY\]/);
    const unknown = await runHil(['power', 'off', 'nope', '--bench', benchFile], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/"nope" is neither a board id nor a port path/);
  }, 120_000);

  it('on a hub without per-port power switching the power-cycle test is skipped with the reason', async () => {
    const ganged = join(work, 'ganged-bench.yaml');
    writeFileSync(ganged, 'name: ganged-lab\nkind: virtual\nhubs: [ { id: h, portPath: "2-1", ports: 2, perPortPower: false } ]\n' +
      'boards:\n  - { id: g1, chip: esp32, hub: h, hubPort: 1, flash: 4MB, usb: uart-bridge }\n');
    const result = await runHil(['run', 'suites/enumeration', '--bench', ganged], { env, timeoutMs: 120_000 });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout + result.stderr).toMatch(/every board enumerates after a hub port power cycle.*hub 2-1 reports ganged power switching/);
    expect(result.stdout).toMatch(/1 skipped/);
  }, 120_000);
});
