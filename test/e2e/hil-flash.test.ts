/**
 * End to end: `hil flash`, `hil firmware inspect` and `hil run --firmware` as a user runs them, on a
 * virtual lab with one ESP32 (4 MB, CP2104) and one ESP32-S3, esptool-js over RFC 2217.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildFirmware } from '../../sim/firmware/image-builder.ts';
import { runHil } from './hil-cli.ts';

const work = mkdtempSync(join(tmpdir(), 'hil-flash-e2e-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const env = { XDG_STATE_HOME: join(work, 'state') };
const bench = join(work, 'bench.yaml');
writeFileSync(bench, `
name: flash-lab
kind: virtual
virtual: { speedFactor: 0 }
hubs: [ { id: hub1, portPath: "1-1", ports: 4 } ]
boards:
  - { id: s3, chip: esp32s3, hub: hub1, hubPort: 1, flash: 16MB, psram: 8MB, usb: native }
  - { id: e32, chip: esp32, hub: hub1, hubPort: 2, flash: 4MB, usb: uart-bridge }
`);
const flashFile = (name: string, bytes: Uint8Array): string => {
  const path = join(work, name);
  writeFileSync(path, bytes);
  return path;
};
const esp32v125 = buildFirmware({ chip: 'esp32', version: 'v1.25.0', flashSizeBytes: 4 * 2 ** 20 });

describe('hil flash', () => {
  it('flashes the boards of the image\'s chip, confirms the version, then skips an identical re-flash', async () => {
    const file = flashFile('esp32-v1.25.0.bin', esp32v125.merged());
    const first = await runHil(['flash', file, '--bench', bench], { env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/leaving out s3 \(esp32s3\): the image is for esp32/);
    expect(first.stdout).toMatch(/^e32: v1\.25\.0 running; bootloader (full|diff|skipped), partition-table (full|diff|skipped), app (full|diff)/m);
    const again = await runHil(['flash', file, '--bench', bench, '--board', 'e32'], { env });
    expect(again.code, again.stderr).toBe(0);
    // The running MicroPython already reports every region's SHA-256 as the image's: no ROM session at all.
    expect(again.stderr).toMatch(/e32: every region already matches the running firmware/);
    expect(again.stdout).toMatch(/^e32: v1\.25\.0 running; bootloader skipped, partition-table skipped, app skipped/m);

    const run = await runHil(['run', 'suites/smoke', '--bench', bench, '--firmware', file], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/✓ smoke \[e32\] › runs the flashed firmware version/);
  });

  it('refuses bad images with exit 2 before touching a board', async () => {
    const app = esp32v125.app;
    const flipped = app.slice();
    flipped[0x3000] = (flipped[0x3000] ?? 0) ^ 0xff;
    const cases: [string, RegExp][] = [
      [flashFile('text.bin', new TextEncoder().encode('hello, not firmware')), /not an ESP image/],
      [flashFile('truncated.bin', app.subarray(0, 5000)), /truncated/],
      [flashFile('corrupt.bin', flipped), /bad checksum|bad SHA-256/],
      [flashFile('empty.bin', new Uint8Array()), /file is empty/],
      [join(work, 'missing.bin'), /no such file/],
      [work, /is a directory/],
      [flashFile('s3.bin', buildFirmware({ chip: 'esp32s3', version: 'v1.25.0' }).app), /image for esp32s3, but e32 \(esp32\) is not/],
      [flashFile('big.bin', buildFirmware({ chip: 'esp32', version: 'v1.25.0', flashSizeBytes: 16 * 2 ** 20 }).merged()), /16MB flash, larger than the board's 4MB|beyond the board's 4MB/],
    ];
    for (const [file, message] of cases) {
      const result = await runHil(['flash', file, '--bench', bench, '--board', 'e32'], { env });
      expect(result.code, `${file}: ${result.stderr}`).toBe(2);
      expect(result.stderr, file).toMatch(message);
    }
    // The board still runs what it ran before.
    const check = await runHil(['run', 'suites/smoke', '--bench', bench, '--board', 'e32', '--firmware', join(work, 'esp32-v1.25.0.bin')], { env });
    expect(check.stderr).toMatch(/e32: every region already matches the running firmware \(SHA-256 on the board\); not flashing/);
  });
});

describe('hil firmware', () => {
  it('builds a simulated image and inspects it, with a verdict', async () => {
    const out = join(work, 'built.bin');
    const built = await runHil(['firmware', 'build-sim', '--chip', 'esp32s3', '--version', 'v1.24.1', '-o', out], { env });
    expect(built.code, built.stderr).toBe(0);
    const inspected = await runHil(['firmware', 'inspect', out], { env });
    expect(inspected.code).toBe(0);
    expect(inspected.stdout).toMatch(/checksum: stored 0x[0-9a-f]{2}, computed 0x[0-9a-f]{2} \(ok\)/);
    expect(inspected.stdout).toMatch(/app: micropython v1\.24\.1/);
    expect(inspected.stdout).toMatch(/verdict: OK — merged image for ESP32-S3, micropython v1\.24\.1/);
    mkdirSync(join(work, 'd'), { recursive: true });
    const bytes = readFileSync(out);
    bytes.writeUInt8(bytes.readUInt8(0x10000 + 0x40) ^ 0x01, 0x10000 + 0x40);
    writeFileSync(join(work, 'd', 'bad.bin'), bytes);
    const bad = await runHil(['firmware', 'inspect', join(work, 'd', 'bad.bin')], { env });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toMatch(/verdict: INVALID — .*(checksum|SHA-256)/);
  });
});
