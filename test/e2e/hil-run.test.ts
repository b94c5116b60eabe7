/**
 * End to end: the real `hil` command, a virtual lab over real loopback sockets, the real MicroPython
 * interpreter. Uses a 2-board bench (one ESP32 bridge board, one ESP32-S3) in a temporary state folder.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateXML } from 'xmllint-wasm';
import { openRfc2217Link } from '../../runner/link/rfc2217-link.ts';
import { FlashStore } from '../../sim/board/flash-store.ts';
import { buildFirmware } from '../../sim/firmware/image-builder.ts';
import { runHil, startHil } from './hil-cli.ts';

const work = mkdtempSync(join(tmpdir(), 'hil-e2e-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const env = { XDG_STATE_HOME: join(work, 'state') };

const benchFile = join(work, 'bench.yaml');
writeFileSync(benchFile, `
name: e2e-lab
kind: virtual
hubs: [ { id: hub1, portPath: "1-1", ports: 4 } ]
boards:
  - { id: s3-a, chip: esp32s3, hub: hub1, hubPort: 1, flash: 16MB, psram: 8MB, usb: native }
  - { id: esp32-a, chip: esp32, hub: hub1, hubPort: 2, flash: 4MB, usb: uart-bridge }
`);

function suite(name: string, manifest: string, files: Record<string, string>): string {
  const dir = join(work, 'suites', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'suite.yaml'), manifest);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

describe('hil run suites/smoke on the virtual lab', () => {
  it('passes on every board and writes schema-valid JUnit with board facts and console', async () => {
    const junit = join(work, 'smoke.xml');
    const result = await runHil(['run', 'suites/smoke', '--bench', benchFile, '--junit', junit], { env });
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.stdout).toMatch(/10 passed/);
    const xml = readFileSync(junit, 'utf8');
    const xsd = readFileSync(join(import.meta.dirname, '..', 'report', 'junit.xsd'), 'utf8');
    const validation = await validateXML({ xml: [{ fileName: 'smoke.xml', contents: xml }], schema: [{ fileName: 'junit.xsd', contents: xsd }] });
    expect(validation.errors).toEqual([]);
    expect(xml.match(/<testsuite /g)).toHaveLength(2);
    expect(xml).toMatch(/name="board\.s3-a\.mac" value="7c:df:a1(:[0-9a-f]{2}){3}"/);
    expect(xml).toMatch(/name="board\.esp32-a\.firmware_version" value="v1\.24\.1"/);
    expect(xml).toMatch(/name="board\.esp32-a\.port_path" value="1-1\.2"/);
    expect(xml).toContain('Generic ESP32S3 module with ESP32S3');
    expect(xml).toContain('MPY: soft reboot');
  });

  it('reports a board script with a syntax error as a test failure with the traceback (exit 1)', async () => {
    const dir = suite('broken', 'name: broken\nboards: { chips: [esp32] }\ntests:\n  - name: syntax\n    steps: [ { exec: bad.py } ]\n  - name: still runs\n    steps: [ { exec: ok.py } ]\n',
      { 'bad.py': 'def f(:\n  pass\n', 'ok.py': 'print("HIL:PROP fine=yes")\n' });
    const junit = join(work, 'broken.xml');
    const result = await runHil(['run', dir, '--bench', benchFile, '--junit', junit], { env });
    expect(result.code, result.stderr).toBe(1);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<failure message="bad\.py: SyntaxError: invalid syntax"/);
    expect(xml).toContain('Traceback (most recent call last):');
    expect(xml).toMatch(/<testcase name="still runs"[^>]*>\s*<properties>[^]*?<property name="fine" value="yes"\/>[^]*?<\/testcase>/);
  });

  it.each([
    [['run', 'suites/nope', '--bench', 'BENCH'], /unknown suite "suites\/nope"/],
    [['run', 'suites/smoke', '--bench', 'MISSING'], /bench file .* does not exist/],
    [['run', 'suites/smoke', '--bench', 'BAD'], /boards\[0\]\.chip/],
    [['run', 'BIG', '--bench', 'BENCH'], /needs 3 boards but the bench offers 2/],
    [['run', 'suites/smoke', '--bench', 'BENCH', '--board', 'nope'], /--board nope: no such board/],
    [['run', 'suites/smoke', '--bench', 'BENCH', '--junit', '/nonexistent/dir/x.xml'], /folder \/nonexistent\/dir does not exist/],
    [['frobnicate'], /unknown command/],
  ])('rejects bad input with exit 2 and a clear message: %j', async (args, message) => {
    const bad = join(work, 'bad-bench.yaml');
    writeFileSync(bad, 'name: b\nkind: virtual\nhubs: [ { id: h, portPath: "1-1", ports: 2 } ]\nboards: [ { id: x, chip: esp8266, hub: h, hubPort: 1, flash: 4MB, usb: uart-bridge } ]\n');
    const big = suite('big', 'name: big\nboards: { count: 3, placement: one-set }\ntests:\n  - name: t\n    steps: [ { exec: t.py } ]\n', { 't.py': 'pass\n' });
    const resolved = args.map((a) => ({ BENCH: benchFile, MISSING: join(work, 'missing.yaml'), BAD: bad, BIG: big })[a] ?? a);
    const result = await runHil(resolved, { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});

describe('hil run --app', () => {
  it('deploys the application bundle to each board before the suites, and refuses an escaping bundle with exit 2', async () => {
    const app = join(work, 'app');
    mkdirSync(join(app, 'lib'), { recursive: true });
    writeFileSync(join(app, 'main.py'), 'print("hello from the app")\n');
    writeFileSync(join(app, 'lib', 'helper.py'), 'ANSWER = 42\n');
    const check = suite('app-check', 'name: app-check\nboards: { chips: [esp32] }\ntests:\n  - name: app is there\n    steps: [ { exec: check.py } ]\n',
      { 'check.py': 'import sys\nsys.path.append("/lib")\nimport helper\nassert helper.ANSWER == 42\n' });
    const result = await runHil(['run', check, '--bench', benchFile, '--app', app], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/esp32-a: application .*app: 2 written, 0 unchanged, 0 deleted, all verified/);
    const evil = join(work, 'evil-app');
    mkdirSync(evil, { recursive: true });
    symlinkSync('/etc', join(evil, 'etc'));
    const refused = await runHil(['run', check, '--bench', benchFile, '--app', evil], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/symlink etc escapes the bundle root \[APP_BUNDLE_INVALID\]/);
  });
});

describe('a board that does not boot', () => {
  it('is an infrastructure error (exit 3) naming the board, with its console as evidence in the JUnit', async () => {
    // Its own bench and state: one ESP32 whose flash holds a stock image with a damaged app.
    const bench = join(work, 'bootloop-bench.yaml');
    writeFileSync(bench, 'name: bootloop-lab\nkind: virtual\nhubs: [ { id: h, portPath: "1-2", ports: 2 } ]\n' +
      'boards: [ { id: broken, chip: esp32, hub: h, hubPort: 1, flash: 4MB, usb: uart-bridge } ]\n');
    const stateDir = join(work, 'state', 'hil', 'bootloop-lab');
    mkdirSync(stateDir, { recursive: true });
    const flash = FlashStore.open(join(stateDir, 'broken.flash'), 4 * 2 ** 20);
    for (const part of buildFirmware({ chip: 'esp32', version: 'v1.24.1', flashSizeBytes: 4 * 2 ** 20 }).parts) flash.write(part.offset, part.data);
    flash.write(0x10000 + 0x200, Uint8Array.from([1, 2, 3, 4]));
    flash.close();
    const junit = join(work, 'bootloop.xml');
    const result = await runHil(['run', 'suites/smoke', '--bench', bench, '--junit', junit], { env });
    expect(result.code, result.stderr).toBe(3);
    expect(result.stdout).toMatch(/5 errors/);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<error message="board unavailable: board did not enter the raw REPL within 15000 ms [^"]*\[TIMEOUT\]"/);
    // The console the board printed while boot-looping is in <system-out> and in the error's details.
    expect(xml, xml).toMatch(/<system-out>[^<]*No bootable app partitions[^<]*<\/system-out>/);
    expect(xml).toMatch(/<error [^>]*>code: TIMEOUT\nphase: enter raw REPL: banner\nlast console output:/);
  });
});

describe('hil sim', () => {
  it('prints each board with URL, chip, MAC and USB identity, serves them, and a held port makes hil run exit 2', async () => {
    const sim = await startHil(['sim', '--bench', benchFile], /esp32-a .*\n/, { env });
    try {
      const lines = sim.stdout().trim().split('\n');
      expect(lines[0]).toMatch(/^s3-a\s+rfc2217:\/\/127\.0\.0\.1:\d+\s+esp32s3\s+7c:df:a1:[0-9a-f:]{8}\s+port 1-1\.1\s+app-running\s+usb 303a:4001 "Espressif Systems" "Espressif Device" serial [0-9a-f]{16}$/);
      expect(lines[1]).toMatch(/^esp32-a\s+rfc2217:\/\/127\.0\.0\.1:\d+\s+esp32\s+24:0a:c4:[0-9a-f:]{8}\s+port 1-1\.2\s+app-running\s+usb 10c4:ea60 "Silicon Labs" "CP2104 USB to UART Bridge Controller" serial [0-9A-F]{8}$/);
      const url = /rfc2217:\/\/[\d.:]+/.exec(lines[1] ?? '')?.[0] ?? '';
      const held = await openRfc2217Link(url);
      try {
        // hil run finds the lab already running for this bench and uses it; the held port is bad input.
        const result = await runHil(['run', 'suites/smoke', '--bench', benchFile, '--board', 'esp32-a'], { env });
        expect(result.code, result.stderr).toBe(2);
        expect(result.stderr).toMatch(/already in use/);
      } finally {
        await held.close();
      }
      const ok = await runHil(['run', 'suites/smoke', '--bench', benchFile, '--board', 'esp32-a'], { env });
      expect(ok.code, ok.stderr).toBe(0);
    } finally {
      expect(await sim.stop('SIGTERM')).toBe(0);
    }
    expect(sim.stderr()).toMatch(/SIGTERM received, stopping the virtual lab/);
  });
});
