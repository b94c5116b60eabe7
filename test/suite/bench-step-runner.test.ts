/**
 * Bench steps against a scripted USB bench: hot-plug events on a fake discovery, port power that
 * detaches and (after a per-port delay) re-attaches devices. Time is vitest's fake clock.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BoardEndpoint } from '../../runner/bench/board-endpoint.ts';
import type { BenchUsb, PortPowerSwitch } from '../../runner/bench/bench-usb.ts';
import type { BenchDiscovery, DiscoveredUsbDevice, DiscoverySnapshot, UsbHotplugEvent } from '../../runner/bench/usb-discovery.ts';
import { HilError, isHilError } from '../../runner/errors.ts';
import { silentLogger } from '../../runner/logger.ts';
import { systemClock } from '../../runner/repl/clock.ts';
import { BenchStepRunner } from '../../runner/suite/bench-step-runner.ts';
import type { BenchStep } from '../../runner/suite/suite-manifest.ts';

/** What a port shows after power-on: a sequence of identities, each appearing after `atMs`. */
interface PortScript { appearances: { atMs: number; device: Partial<DiscoveredUsbDevice> }[] }

class ScriptedBench implements BenchUsb {
  readonly devices = new Map<string, DiscoveredUsbDevice>();
  readonly #listeners = new Set<(e: UsbHotplugEvent) => void>();
  readonly #timers: ReturnType<typeof setTimeout>[] = [];
  problem: string | undefined;
  /** Ports whose power requests have no effect (a hub that does not switch VBUS). */
  readonly stuckOn = new Set<string>();
  readonly noPerPortPower = new Set<string>();
  readonly powerLog: string[] = [];

  constructor(readonly scripts: Map<string, PortScript>) {
    for (const [path, script] of scripts) {
      const last = script.appearances.at(-1);
      if (last) this.devices.set(path, device(path, last.device));
    }
  }

  readonly discovery: BenchDiscovery = {
    list: async (): Promise<DiscoverySnapshot> => (this.problem ? { devices: [], problem: this.problem } : { devices: [...this.devices.values()] }),
    onHotplug: (listener) => { this.#listeners.add(listener); return () => this.#listeners.delete(listener); },
    openHub: async () => null,
    openDevice: async () => null,
    close: async () => {},
  };

  async portPower(portPath: string): Promise<PortPowerSwitch> {
    if (this.noPerPortPower.has(portPath)) throw new HilError('HUB_NO_PORT_POWER', `hub 1-1 switches its ports only together (ganged), not ${portPath} alone`);
    return {
      hubPath: '1-1', port: Number(portPath.split('.').at(-1)),
      setPower: async (on) => {
        this.powerLog.push(`${portPath} ${on ? 'on' : 'off'}`);
        if (this.stuckOn.has(portPath)) return;
        if (!on) {
          if (this.devices.delete(portPath)) this.#emit({ type: 'detach', atMs: Date.now(), portPath });
          return;
        }
        for (const [i, appearance] of (this.scripts.get(portPath)?.appearances ?? []).entries()) {
          this.#timers.push(setTimeout(() => {
            if (i > 0) { this.devices.delete(portPath); this.#emit({ type: 'detach', atMs: Date.now(), portPath }); }
            const d = device(portPath, appearance.device);
            this.devices.set(portPath, d);
            this.#emit({ type: 'attach', atMs: Date.now(), device: d });
          }, appearance.atMs));
        }
      },
    };
  }

  async close(): Promise<void> { for (const t of this.#timers) clearTimeout(t); }
  #emit(e: UsbHotplugEvent): void { for (const l of this.#listeners) l(e); }
}

function device(portPath: string, d: Partial<DiscoveredUsbDevice>): DiscoveredUsbDevice {
  return { portPath, address: 5, vendorId: 0x303a, productId: 0x4001, manufacturer: 'Espressif Systems', product: 'Espressif Device',
    serialNumber: `sn-${portPath}`, isHub: false, serial: { ttyPath: `tty-${portPath}`, url: `rfc2217://x/${portPath}` }, ...d };
}

function board(id: string, portPath: string): BoardEndpoint {
  return { boardId: id, portPath, chip: 'esp32s3', usb: 'native', linkUrl: `rfc2217://x/${portPath}`, expectedMac: undefined, ...(id === 'a' ? { runtimeUsbId: '303a:4001' } : {}) };
}

const boards = [board('a', '1-1.1'), board('b', '1-1.2'), board('c', '1-1.3')];
const cycle: BenchStep = { 'usb-power-cycle': { offMs: 500, deadlineMs: 5000, settleMs: 300 } };
const runner = (usb: BenchUsb | undefined): BenchStepRunner => new BenchStepRunner({ usb, openLink: async () => { throw new Error('unused'); }, logger: silentLogger(), clock: systemClock });

/** Runs `promise` while advancing fake time. */
async function settle<T>(promise: Promise<T>): Promise<T> {
  let done = false;
  promise.finally(() => { done = true; }).catch(() => undefined);
  for (let i = 0; i < 200 && !done; i++) await vi.advanceTimersByTimeAsync(50);
  return promise;
}

describe('BenchStepRunner', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('power-cycles every port and records each board\'s enumeration time from power-on, counting the last attach', async () => {
    const bench = new ScriptedBench(new Map([
      ['1-1.1', { appearances: [{ atMs: 200, device: { productId: 0x1001, serialNumber: 'AA:BB' } }, { atMs: 900, device: {} }] }],
      ['1-1.2', { appearances: [{ atMs: 400, device: {} }] }],
      ['1-1.3', { appearances: [{ atMs: 250, device: { vendorId: 0x10c4, productId: 0xea60 } }] }],
    ]));
    const result = await settle(runner(bench).run([cycle], boards));
    expect(result.failure).toBeUndefined();
    expect(result.skipped).toBeUndefined();
    expect(bench.powerLog).toEqual(['1-1.1 off', '1-1.2 off', '1-1.3 off', '1-1.1 on', '1-1.2 on', '1-1.3 on']);
    expect(Number(result.properties['a.enumerationMs'])).toBeGreaterThanOrEqual(900);
    expect(Number(result.properties['a.enumerationMs'])).toBeLessThan(1000);
    expect(result.properties['a.enumerations']).toBe('2');
    expect(result.properties['a.usbId']).toBe('303a:4001');
    expect(Number(result.properties['b.enumerationMs'])).toBeGreaterThanOrEqual(400);
    expect(result.properties['c.usbId']).toBe('10c4:ea60');
    await bench.close();
  });

  it('a board that never enumerates is an infrastructure error naming its port, with the others\' times kept', async () => {
    const bench = new ScriptedBench(new Map([
      ['1-1.1', { appearances: [{ atMs: 200, device: {} }] }],
      ['1-1.2', { appearances: [] }],
      ['1-1.3', { appearances: [{ atMs: 200, device: {} }] }],
    ]));
    bench.devices.set('1-1.2', device('1-1.2', {}));
    const err = await settle(runner(bench).run([cycle], boards)).then(() => null, (e: unknown) => e);
    expect(isHilError(err, 'BOARD_NOT_ENUMERATED')).toBe(true);
    expect((err as HilError).kind).toBe('infrastructure');
    expect((err as HilError).message).toContain('b at port 1-1.2 (expected a serial device; nothing attached)');
    expect((err as HilError).message).not.toContain('1-1.1');
    expect((err as HilError).evidence.properties).toMatchObject({ 'a.usbId': '303a:4001' });
    await bench.close();
  });

  it('a native board that stays USB-Serial-JTAG never counts as enumerated as its runtime CDC', async () => {
    const bench = new ScriptedBench(new Map([['1-1.1', { appearances: [{ atMs: 200, device: { productId: 0x1001 } }] }]]));
    const err = await settle(runner(bench).run([cycle], [boards[0]!])).then(() => null, (e: unknown) => e);
    expect(isHilError(err, 'BOARD_NOT_ENUMERATED')).toBe(true);
    expect((err as HilError).message).toContain('a at port 1-1.1 (expected 303a:4001; last seen as 303a:1001)');
  });

  it('a hub that keeps a port powered after power-off is reported, and the ports are powered on again', async () => {
    const bench = new ScriptedBench(new Map([['1-1.1', { appearances: [{ atMs: 100, device: {} }] }]]));
    bench.stuckOn.add('1-1.1');
    const err = await settle(runner(bench).run([cycle], [boards[0]!])).then(() => null, (e: unknown) => e);
    expect(isHilError(err, 'HUB_REQUEST_FAILED')).toBe(true);
    expect((err as HilError).message).toMatch(/a at 1-1.1 still enumerated 500 ms later/);
    expect(bench.powerLog.at(-1)).toBe('1-1.1 on');
  });

  it('skips with the reason when the hub cannot switch ports one by one or no USB bus is visible', async () => {
    const bench = new ScriptedBench(new Map([['1-1.1', { appearances: [{ atMs: 100, device: {} }] }]]));
    bench.noPerPortPower.add('1-1.1');
    const ganged = await runner(bench).run([cycle], [boards[0]!]);
    expect(ganged.skipped).toMatch(/ganged/);
    expect(bench.powerLog).toEqual([]);
    bench.problem = 'no USB bus visible: /sys/bus/usb/devices/ not found';
    expect((await runner(bench).run([cycle], [boards[0]!])).skipped).toBe('no USB bus visible: /sys/bus/usb/devices/ not found');
    expect((await runner(undefined).run([cycle], [boards[0]!])).skipped).toMatch(/no USB view/);
  });

  it('fails on colliding USB serial strings, naming the boards, and passes on unique ones', async () => {
    const shared = new ScriptedBench(new Map(boards.map((b) => [b.portPath, { appearances: [{ atMs: 0, device: { serialNumber: b.boardId === 'c' ? 'C1' : '123456' } }] }])));
    const step: BenchStep = { 'usb-unique-serials': { requirePresent: false } };
    const failed = await runner(shared).run([step], boards);
    expect(failed.failure?.message).toContain('"123456" × 2');
    expect(failed.failure?.details).toContain('a (1-1.1, 303a:4001), b (1-1.2, 303a:4001)');
    expect(failed.properties['c.usbSerial']).toBe('C1');
    const unique = new ScriptedBench(new Map(boards.map((b) => [b.portPath, { appearances: [{ atMs: 0, device: {} }] }])));
    expect((await runner(unique).run([step], boards)).failure).toBeUndefined();
    const missing = new ScriptedBench(new Map(boards.map((b) => [b.portPath, { appearances: [{ atMs: 0, device: { serialNumber: b.boardId === 'a' ? null : b.boardId } }] }])));
    expect((await runner(missing).run([step], boards)).failure).toBeUndefined();
    expect((await runner(missing).run([{ 'usb-unique-serials': { requirePresent: true } }], boards)).failure?.message).toMatch(/no USB serial string on a \(1-1.1\)/);
  });
});
