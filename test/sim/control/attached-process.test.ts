/**
 * The case the control server exists for: one process owns the lab (`hil sim`), another finds it with
 * `SimLab.findRunning` and gets its USB view — listing, port power, hot-plug events — over loopback.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DiscoveryBenchUsb } from '../../../runner/bench/discovery-bench-usb.ts';
import type { UsbHotplugEvent } from '../../../runner/bench/usb-discovery.ts';
import { RemoteLabDiscovery } from '../../../sim/control/remote-lab-discovery.ts';
import { SimLab } from '../../../sim/sim-lab.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');
const CHILD = join(import.meta.dirname, 'lab-owner-child.ts');

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Starts the lab owner and resolves once its lab is up. */
async function startOwner(stateDir: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, stateDir], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (data: Buffer) => { stderr += data.toString(); });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (data: Buffer) => {
      stdout += data.toString();
      if (stdout.includes('ready\n')) resolve();
    });
    void exited.then((code) => reject(new Error(`lab owner exited (${code}) before it was ready\n${stdout}\n${stderr}`)));
  });
  return { child, exited, stdout: () => stdout };
}

describe('a process attached to a lab owned by another process', () => {
  it('finds the USB control URL with findRunning and switches a board\'s port, seeing it detach and attach again', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'hil-lab-attached-'));
    cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
    const owner = await startOwner(stateDir);

    const running = SimLab.findRunning(stateDir);
    expect(running).toMatchObject({ pid: owner.child.pid, usbControlUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
    let streamEnded: ((reason: string) => void) | undefined;
    const ended = new Promise<string>((resolve) => { streamEnded = resolve; });
    const discovery = new RemoteLabDiscovery(running!.usbControlUrl!, { onEventStreamEnd: (reason) => streamEnded!(reason) });
    const usb = new DiscoveryBenchUsb(discovery);
    cleanups.push(() => usb.close());

    const { devices } = await discovery.list();
    const board = devices.find((device) => device.portPath === '1-1.5');
    expect(devices.map((device) => device.portPath)).toEqual(['1-1', '1-1.1', '1-1.5']);
    expect(board?.serial?.url).toBe(running!.boards.find((b) => b.id === 'e1')!.url);

    const events: UsbHotplugEvent[] = [];
    let attached: (() => void) | undefined;
    const reattached = new Promise<void>((resolve) => { attached = resolve; });
    discovery.onHotplug((event) => {
      events.push(event);
      if (event.type === 'attach' && event.device.portPath === '1-1.5') attached!();
    });
    const port = await usb.portPower('1-1.5');
    await port.setPower(false);
    expect(events).toEqual([{ type: 'detach', atMs: expect.any(Number), portPath: '1-1.5' }]);
    await port.setPower(true);
    await reattached;
    const event = events[1]!;
    expect(event.type === 'attach' && [event.device.serialNumber, event.device.serial?.url]).toEqual([board!.serialNumber, board!.serial!.url]);

    owner.child.stdin.end(); // the owner stops its lab
    expect(await ended).toBe('the virtual lab closed the event stream');
    expect(await owner.exited).toBe(0);
    expect(owner.stdout()).toContain('closed');
    expect((await discovery.list()).problem).toMatch(/^virtual lab control at http:\/\/127\.0\.0\.1:\d+ not reachable: /);
    expect(SimLab.findRunning(stateDir)).toBeUndefined();
  });
});
