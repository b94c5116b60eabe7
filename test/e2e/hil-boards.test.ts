/**
 * End to end: `hil boards` on a 2-board virtual bench (an ESP32-S3 on native USB, an ESP32 behind a
 * CP2104 bridge) in a temporary state folder — the real command, the virtual lab over loopback, the
 * real MicroPython interpreter answering the probe. Also: a board another process leased is listed
 * with its holder and left alone; a foreign MAC and a boot-looping board are rig problems (exit 3).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBench } from '../../hil-config/load-bench.ts';
import type { BoardsReport } from '../../runner/cli/boards-report.ts';
import { FileLeaseStore } from '../../runner/lease/file-lease-store.ts';
import { leaseDirFor } from '../../runner/lease/lease-location.ts';
import type { Lease } from '../../runner/lease/lease-store.ts';
import { FlashStore } from '../../sim/board/flash-store.ts';
import { buildFirmware } from '../../sim/firmware/image-builder.ts';
import { HIL_BIN, REPO_ROOT, runHil, startHil, type HilResult } from './hil-cli.ts';

const work = mkdtempSync(join(tmpdir(), 'hil-boards-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const stateHome = join(work, 'state');
const env = { XDG_STATE_HOME: stateHome };

const benchYaml = (extra = ''): string => `
name: boards-lab
kind: virtual
hubs: [ { id: hub1, portPath: "1-1", ports: 4 } ]
boards:
  - { id: s3-a, chip: esp32s3, hub: hub1, hubPort: 1, flash: 8MB, usb: native }
  - { id: esp32-a, chip: esp32, hub: hub1, hubPort: 2, flash: 4MB, usb: uart-bridge${extra} }
`;
const benchFile = join(work, 'bench.yaml');
writeFileSync(benchFile, benchYaml());
const bench = loadBench(benchFile, { stateHome });
const expectedMac = (id: string): string => bench.boards.find((b) => b.id === id)?.mac ?? 'unknown';

function parseReport(result: HilResult): BoardsReport {
  return JSON.parse(result.stdout) as BoardsReport;
}

/**
 * Runs `hil boards` while this test process holds a lease on `boardId`. The command prints its listing,
 * then keeps the lab it started running while the lease (another "run") exists: the lease is released
 * once that is seen, and the command then ends.
 */
async function boardsWhileLeased(boardId: string, args: string[]): Promise<HilResult & { lease: Lease; leaseAfter: Lease | undefined }> {
  const store = new FileLeaseStore({ dir: leaseDirFor(bench) });
  const holder = { user: 'tester', host: hostname(), pid: process.pid, command: 'hil run suites/slow' };
  const granted = await store.tryAcquire({ boardIds: [boardId], holder, ttlMs: 120_000 });
  if (!granted.granted) throw new Error(`could not lease ${boardId}`);
  const child = spawn(process.execPath, [HIL_BIN, 'boards', '--bench', benchFile, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  let leaseAfter: Lease | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`hil boards never waited for the lease\n${stdout}\n${stderr}`)), 60_000);
      const check = (): void => {
        if (stderr.includes('keeping the virtual lab running while other runs use it') && stdout.endsWith('\n')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); check(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); check(); });
      void exited.then((code) => { clearTimeout(timer); reject(new Error(`hil boards exited (${code}) while the lease was held\n${stdout}\n${stderr}`)); });
    });
    // Still ours, same fencing token: `hil boards` neither took nor renewed it.
    leaseAfter = await store.renew(granted.lease);
  } finally {
    await store.release(granted.lease);
  }
  return { code: await exited, stdout, stderr, lease: granted.lease, leaseAfter };
}

describe('hil boards', () => {
  it('lists both boards with port path, tty and URL, VID:PID, USB strings, MAC, firmware version and state idle', async () => {
    const result = await runHil(['boards', '--bench', benchFile], { env });
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^BOARD\s+PORT PATH\s+CHIP\s+SERIAL ENDPOINT\s+VID:PID\s+USB SERIAL\s+MANUFACTURER\s+PRODUCT\s+MAC\s+FIRMWARE\s+STATE$/);
    expect(lines[1]).toMatch(new RegExp(`^s3-a\\s+1-1\\.1\\s+esp32s3\\s+ttyACM\\d+ rfc2217://127\\.0\\.0\\.1:\\d+\\s+303a:4001\\s+[0-9a-f]{12}0000\\s+` +
      `Espressif Systems\\s+Espressif Device\\s+${expectedMac('s3-a')}\\s+v1\\.24\\.1\\s+idle$`));
    expect(lines[2]).toMatch(new RegExp(`^esp32-a\\s+1-1\\.2\\s+esp32\\s+ttyUSB\\d+ rfc2217://127\\.0\\.0\\.1:\\d+\\s+10c4:ea60\\s+[0-9A-F]{8}\\s+` +
      `Silicon Labs\\s+CP2104 USB to UART Bridge Controller\\s+${expectedMac('esp32-a')}\\s+v1\\.24\\.1\\s+idle$`));
  });

  it('prints one JSON document with the same facts under stable field names', async () => {
    const result = await runHil(['boards', '--bench', benchFile, '--json'], { env });
    expect(result.code, result.stderr).toBe(0);
    const report = parseReport(result);
    expect(report.bench).toEqual({ name: 'boards-lab', file: benchFile, kind: 'virtual' });
    expect(report.usb).toEqual({ available: true });
    expect(report.probed).toBe(true);
    expect(report.boards.map((b) => b.id)).toEqual(['s3-a', 'esp32-a']);
    expect(report.boards[0]).toMatchObject({
      portPath: '1-1.1', chip: 'esp32s3', usbMode: 'native', state: 'idle', lease: null, notes: [],
      serial: { tty: expect.stringMatching(/^ttyACM\d+$/), url: expect.stringMatching(/^rfc2217:\/\/127\.0\.0\.1:\d+$/) },
      usb: { vidPid: '303a:4001', vendorId: 0x303a, productId: 0x4001, manufacturer: 'Espressif Systems', product: 'Espressif Device' },
      mac: expectedMac('s3-a'), expectedMac: expectedMac('s3-a'), macConfirmed: true, firmwareVersion: 'v1.24.1',
      machine: expect.stringContaining('ESP32S3'),
    });
    expect(report.boards[1]).toMatchObject({
      portPath: '1-1.2', chip: 'esp32', usbMode: 'uart-bridge', state: 'idle',
      usb: { vidPid: '10c4:ea60', manufacturer: 'Silicon Labs', product: 'CP2104 USB to UART Bridge Controller' },
      mac: expectedMac('esp32-a'), macConfirmed: true, firmwareVersion: 'v1.24.1',
    });
  });

  it('--no-probe lists USB identity and state without reading MAC or firmware version', async () => {
    const report = parseReport(await runHil(['boards', '--bench', benchFile, '--json', '--no-probe'], { env }));
    expect(report.probed).toBe(false);
    expect(report.boards.map((b) => [b.usb?.vidPid, b.state, b.mac, b.firmwareVersion])).toEqual([
      ['303a:4001', 'idle', null, null],
      ['10c4:ea60', 'idle', null, null],
    ]);
  });

  it('shows a board another process holds as leased, with the holder, and does not probe it', async () => {
    const text = await boardsWhileLeased('esp32-a', []);
    expect(text.code, text.stderr).toBe(0);
    expect(text.leaseAfter?.tokens).toEqual(text.lease.tokens);
    const [, s3Line, esp32Line] = text.stdout.split('\n');
    expect(s3Line).toMatch(new RegExp(`^s3-a .*${expectedMac('s3-a')}\\s+v1\\.24\\.1\\s+idle$`));
    expect(esp32Line).toMatch(new RegExp(`^esp32-a\\s+1-1\\.2\\s+esp32\\s+ttyUSB\\d+ \\S+\\s+10c4:ea60\\s+.*\\s+-\\s+-\\s+` +
      `leased by tester@${hostname()} pid ${process.pid}, \`hil run suites/slow\`, expires in \\d+ s$`));

    const json = await boardsWhileLeased('esp32-a', ['--json']);
    expect(json.code, json.stderr).toBe(0);
    const leased = parseReport(json).boards.find((b) => b.id === 'esp32-a');
    expect(leased).toMatchObject({
      state: 'leased', mac: null, firmwareVersion: null, usb: { vidPid: '10c4:ea60' },
      lease: { user: 'tester', host: hostname(), pid: process.pid, command: 'hil run suites/slow', token: json.lease.tokens['esp32-a'] },
    });
    expect(parseReport(json).boards.find((b) => b.id === 's3-a')).toMatchObject({ state: 'idle', mac: expectedMac('s3-a') });
  });

  it('attached to a running `hil sim`: lists its endpoints, and flags a board whose MAC is not the expected one (exit 3)', async () => {
    const sim = await startHil(['sim', '--bench', benchFile], /esp32-a .*\n/, { env });
    try {
      const urls = sim.stdout().match(/rfc2217:\/\/127\.0\.0\.1:\d+/g) ?? [];
      expect(urls).toHaveLength(2);
      const plain = parseReport(await runHil(['boards', '--bench', benchFile, '--json'], { env }));
      expect(plain.boards.map((b) => [b.serial.url, b.mac, b.firmwareVersion, b.state])).toEqual([
        [urls[0], expectedMac('s3-a'), 'v1.24.1', 'idle'],
        [urls[1], expectedMac('esp32-a'), 'v1.24.1', 'idle'],
      ]);

      // The same lab, but this bench file expects another MAC at port 1-1.2: someone swapped the board.
      const swapped = join(work, 'swapped.yaml');
      writeFileSync(swapped, benchYaml(', mac: "24:0a:c4:00:00:99"'));
      const result = await runHil(['boards', '--bench', swapped], { env });
      expect(result.code, result.stderr).toBe(3);
      expect(result.stdout).toMatch(new RegExp(`^esp32-a .*${expectedMac('esp32-a')} \\(!\\)\\s+v1\\.24\\.1\\s+idle$`, 'm'));
      expect(result.stdout).toContain(`esp32-a: reports MAC ${expectedMac('esp32-a')} but the bench expects 24:0a:c4:00:00:99: another board is plugged into this port`);
    } finally {
      expect(await sim.stop('SIGTERM')).toBe(0);
    }
  });

  it('shows a boot-looping board as offline with the reason (exit 3)', async () => {
    const loopBench = join(work, 'bootloop.yaml');
    writeFileSync(loopBench, 'name: boards-bootloop\nkind: virtual\nhubs: [ { id: h, portPath: "1-2", ports: 2 } ]\n' +
      'boards: [ { id: broken, chip: esp32, hub: h, hubPort: 1, flash: 4MB, usb: uart-bridge } ]\n');
    const stateDir = join(stateHome, 'hil', 'boards-bootloop');
    mkdirSync(stateDir, { recursive: true });
    const flash = FlashStore.open(join(stateDir, 'broken.flash'), 4 * 2 ** 20);
    for (const part of buildFirmware({ chip: 'esp32', version: 'v1.24.1', flashSizeBytes: 4 * 2 ** 20 }).parts) flash.write(part.offset, part.data);
    flash.write(0x10000 + 0x200, Uint8Array.from([1, 2, 3, 4]));
    flash.close();
    const result = await runHil(['boards', '--bench', loopBench, '--json'], { env });
    expect(result.code, result.stderr).toBe(3);
    const [board] = parseReport(result).boards;
    expect(board).toMatchObject({ id: 'broken', state: 'offline', mac: null, usb: { vidPid: '10c4:ea60' } });
    expect(board?.notes.join('\n')).toMatch(/^no answer on rfc2217:\/\/127\.0\.0\.1:\d+: board did not enter the raw REPL within \d+ ms.*\[TIMEOUT\]$/m);
  });

  it('rejects a bad bench file with exit 2 before opening anything', async () => {
    const result = await runHil(['boards', '--bench', join(work, 'missing.yaml')], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/bench file .* does not exist.*\[CONFIG_NOT_FOUND\]/);
  });
});
