import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiscoveryBenchUsb, type PortPowerFallback } from '../../runner/bench/discovery-bench-usb.ts';
import type { BenchDiscovery } from '../../runner/bench/usb-discovery.ts';
import { HilError } from '../../runner/errors.ts';
import type { Logger } from '../../runner/logger.ts';
import { NodeSysfsAttributeFiles, SysfsPortPower, type SysfsAttributeFiles } from '../../runner/usb/sysfs-port-power.ts';
import type { UsbControlDevice, UsbControlSetup } from '../../runner/usb/usb-control-device.ts';
import { webUsbHubDevice, type HostUsbDevice } from '../../runner/usb/webusb-source.ts';
import { hubDescriptorBytes, RecordingHub, type RecordingHubOptions } from './recording-hub.ts';

const INDIVIDUAL = 0x0089;
const GANGED = 0x0000;
const powerOff = (port: number): string => `23 01 08 00 0${port} 00 00 00`;

/**
 * A sysfs tree in a temp dir laid out like Linux ≥ 6.0's for one hub: the hub's device directory with
 * its interface `<hub>:1.0` holding `<hub>-port<N>/disable` (all ports enabled), and the
 * `bus/usb/devices` links to the hub and its interface.
 */
class FakePortSysfs {
  readonly root = mkdtempSync(join(tmpdir(), 'hil-sysfs-ports-'));

  addHub(hubPath: string, ports: number, options: { disableFiles?: boolean } = {}): void {
    const deviceDir = `devices/pci0000:00/0000:00:14.0/usb1/${hubPath}`;
    const interfaceDir = `${deviceDir}/${hubPath}:1.0`;
    mkdirSync(join(this.root, interfaceDir), { recursive: true });
    if (options.disableFiles !== false) {
      for (let port = 1; port <= ports; port++) {
        mkdirSync(join(this.root, interfaceDir, `${hubPath}-port${port}`));
        writeFileSync(join(this.root, interfaceDir, `${hubPath}-port${port}`, 'disable'), '0\n');
      }
    }
    this.#link(`bus/usb/devices/${hubPath}`, deviceDir);
    this.#link(`bus/usb/devices/${hubPath}:1.0`, interfaceDir);
  }

  /** The `disable` file's absolute path (through the interface link, as messages name it). */
  disablePath(hubPath: string, port: number): string {
    return join(this.root, `bus/usb/devices/${hubPath}:1.0/${hubPath}-port${port}/disable`);
  }

  disableValue(hubPath: string, port: number): string {
    return readFileSync(this.disablePath(hubPath, port), 'utf8').trim();
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }

  #link(at: string, target: string): void {
    const linkPath = join(this.root, at);
    mkdirSync(dirname(linkPath), { recursive: true });
    symlinkSync(relative(dirname(linkPath), join(this.root, target)), linkPath);
  }
}

/** Attribute files that record every access and can fail or ignore writes like a real sysfs can. */
class ScriptedFiles implements SysfsAttributeFiles {
  readonly log: string[] = [];
  writeError: NodeJS.ErrnoException | null = null;
  ignoreWrites = false;
  readonly #real: NodeSysfsAttributeFiles;

  constructor(root: string) {
    this.#real = new NodeSysfsAttributeFiles(root);
  }

  async read(relativePath: string): Promise<string> {
    this.log.push(`read ${relativePath}`);
    return this.#real.read(relativePath);
  }

  async write(relativePath: string, value: string): Promise<void> {
    this.log.push(`write ${relativePath} ${value}`);
    if (this.writeError) throw this.writeError;
    if (!this.ignoreWrites) await this.#real.write(relativePath, value);
  }
}

function errnoError(code: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: permission denied, open '${path}'`), { code, errno: -13, syscall: 'open', path });
}

async function failure(promise: Promise<unknown>): Promise<HilError> {
  const err: unknown = await promise.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof HilError)) throw new Error(`expected a HilError, got ${String(err)}`);
  return err;
}

let sysfs: FakePortSysfs;
beforeEach(() => {
  sysfs = new FakePortSysfs();
});
afterEach(() => sysfs.cleanup());

describe('SysfsPortPower', () => {
  it('finds a port\'s disable file under the hub\'s interface, and nothing for other ports, hubs or numbers', async () => {
    sysfs.addHub('1-1', 4);
    const power = new SysfsPortPower({ root: sysfs.root });
    expect(await power.isAvailable('1-1', 3)).toBe(true);
    expect(await power.isAvailable('1-1', 5)).toBe(false);
    expect(await power.isAvailable('1-1', 0)).toBe(false);
    expect(await power.isAvailable('1-2', 1)).toBe(false);
  });

  it('powers a port off by writing 1 and on by writing 0, reading the file back each time', async () => {
    sysfs.addHub('1-1', 4);
    const files = new ScriptedFiles(sysfs.root);
    const power = new SysfsPortPower({ root: sysfs.root, files });
    const file = 'bus/usb/devices/1-1:1.0/1-1-port3/disable';

    await power.setPower('1-1', 3, false);
    expect(sysfs.disableValue('1-1', 3)).toBe('1');
    await power.setPower('1-1', 3, true);
    expect(sysfs.disableValue('1-1', 3)).toBe('0');
    expect(files.log).toEqual([`write ${file} 1`, `read ${file}`, `write ${file} 0`, `read ${file}`]);
    expect(sysfs.disableValue('1-1', 2)).toBe('0');
  });

  it('names the root hub\'s files the kernel\'s way (usb1 → 1-0:1.0/usb1-port2)', async () => {
    const files = new ScriptedFiles(sysfs.root);
    const err = await failure(new SysfsPortPower({ root: sysfs.root, files }).setPower('usb1', 2, false));
    expect(files.log[0]).toBe('write bus/usb/devices/1-0:1.0/usb1-port2/disable 1');
    expect(err.evidence).toMatchObject({ hubPath: 'usb1', port: 2, portPath: '1-2' });
  });

  it('explains EACCES: root or a udev rule giving write access to the disable file', async () => {
    sysfs.addHub('1-1', 4);
    const files = new ScriptedFiles(sysfs.root);
    files.writeError = errnoError('EACCES', sysfs.disablePath('1-1', 3));
    const err = await failure(new SysfsPortPower({ root: sysfs.root, files }).setPower('1-1', 3, false));
    expect(err.code).toBe('HUB_REQUEST_FAILED');
    expect(err.message).toBe(`hub 1-1 port 3: cannot write ${sysfs.disablePath('1-1', 3)} (EACCES): ` +
      `switching port power through sysfs needs root or a udev rule giving write access to ${sysfs.disablePath('1-1', 3)}`);
    expect(err.evidence).toMatchObject({ hubPath: '1-1', port: 3, portPath: '1-1.3', file: sysfs.disablePath('1-1', 3), errno: 'EACCES' });
    expect(err.cause).toBe(files.writeError);
    expect(sysfs.disableValue('1-1', 3)).toBe('0');
  });

  it('explains ENOENT: a kernel older than 6.0 or not a hub port', async () => {
    sysfs.addHub('1-1', 4, { disableFiles: false });
    const err = await failure(new SysfsPortPower({ root: sysfs.root }).setPower('1-1', 3, true));
    expect(err.code).toBe('HUB_REQUEST_FAILED');
    expect(err.message).toBe(`hub 1-1 port 3: cannot write ${sysfs.disablePath('1-1', 3)} (ENOENT): ` +
      'the kernel is older than 6.0 (hub ports have no "disable" attribute) or 1-1 port 3 is not a hub port');
    expect(err.evidence).toMatchObject({ errno: 'ENOENT', file: sysfs.disablePath('1-1', 3) });

    const noHub = await failure(new SysfsPortPower({ root: sysfs.root }).setPower('2-4', 1, false));
    expect(noHub.message).toContain(`${join(sysfs.root, 'bus/usb/devices/2-4:1.0/2-4-port1/disable')} (ENOENT)`);
  });

  it('fails when the file reads back the old value (the hub did not switch the port)', async () => {
    sysfs.addHub('1-1', 4);
    const files = new ScriptedFiles(sysfs.root);
    files.ignoreWrites = true;
    const err = await failure(new SysfsPortPower({ root: sysfs.root, files }).setPower('1-1', 2, false));
    expect(err.code).toBe('HUB_REQUEST_FAILED');
    expect(err.message).toBe(`hub 1-1 port 2: ${sysfs.disablePath('1-1', 2)} reads "0" after writing 1: the hub did not switch the port's power off`);
    expect(err.evidence).toMatchObject({ readBack: '0', portPath: '1-1.2' });
  });

  it('refuses a port number that is not a positive integer before touching any file', async () => {
    sysfs.addHub('1-1', 4);
    const files = new ScriptedFiles(sysfs.root);
    const err = await failure(new SysfsPortPower({ root: sysfs.root, files }).setPower('1-1', 1.5, false));
    expect(err.code).toBe('USAGE');
    expect(files.log).toEqual([]);
  });
});

/**
 * A hub as usb 3.1.0 presents it through the real adapter (webUsbHubDevice): requests to the hub
 * itself reach the recording hub; requests addressed to a port are refused with "invalid state"
 * because no interface is claimed. `refused` lists those attempts.
 */
function usb310Hub(hub: RecordingHub, refused: string[]): UsbControlDevice {
  const refuse = (direction: 'In' | 'Out', setup: UsbControlSetup): never => {
    refused.push(`${direction} request ${setup.request} port ${setup.index}`);
    throw new Error(`controlTransfer${direction} error: invalid state`);
  };
  const host: HostUsbDevice = {
    bus: '001', ports: [1], address: 2, deviceClass: 9, manufacturerName: null, productName: null, serialNumber: null,
    vendorId: hub.vendorId, productId: hub.productId,
    get opened() { return hub.opened; },
    open: () => hub.open(),
    close: () => hub.close(),
    controlTransferIn: async (setup, length) => (setup.recipient === 'other' ? refuse('In', setup) : hub.controlTransferIn(setup, length)),
    controlTransferOut: async (setup) => (setup.recipient === 'other' ? refuse('Out', setup) : hub.controlTransferOut(setup)),
    // A hub's only interface belongs to the kernel hub driver: nothing here claims it or transfers.
    claimInterface: async () => { throw new Error('claimInterface error: Device or resource busy (os error 16)'); },
    releaseInterface: async () => { throw new Error('releaseInterface error: not claimed'); },
    transferIn: async () => { throw new Error('transferIn error: endpoint not found'); },
    transferOut: async () => { throw new Error('transferOut error: endpoint not found'); },
  };
  return webUsbHubDevice(host);
}

function hubDiscovery(hubs: Record<string, UsbControlDevice>): BenchDiscovery {
  return {
    list: async () => ({ devices: [] }),
    onHotplug: () => () => undefined,
    openHub: async (portPath) => hubs[portPath] ?? null,
    openDevice: async () => null,
    close: async () => undefined,
  };
}

function sevenPortHub(characteristics = INDIVIDUAL, extra: Partial<RecordingHubOptions> = {}): RecordingHub {
  return new RecordingHub({ descriptor: hubDescriptorBytes({ ports: 7, characteristics, pwrOn2PwrGood: 50 }), ...extra });
}

/** The sysfs fallback with its calls recorded. */
function recordedFallback(root: string): PortPowerFallback & { calls: string[] } {
  const sysfsPower = new SysfsPortPower({ root });
  const calls: string[] = [];
  return {
    calls,
    isAvailable: async (hubPath, port) => {
      calls.push(`isAvailable ${hubPath} ${port}`);
      return sysfsPower.isAvailable(hubPath, port);
    },
    setPower: async (hubPath, port, on) => {
      calls.push(`setPower ${hubPath} ${port} ${on ? 'on' : 'off'}`);
      return sysfsPower.setPower(hubPath, port, on);
    },
  };
}

function capturedLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const raw: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => { raw.push(line); } });
  return { logger, lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('DiscoveryBenchUsb with a sysfs fallback', () => {
  it('switches through sysfs once the usb package refuses port requests, and keeps doing so for that hub, saying why once', async () => {
    sysfs.addHub('1-1', 7);
    const hub = sevenPortHub();
    const refused: string[] = [];
    const fallback = recordedFallback(sysfs.root);
    const { logger, lines } = capturedLogger();
    const usb = new DiscoveryBenchUsb(hubDiscovery({ '1-1': usb310Hub(hub, refused) }), { fallback, logger });

    const port3 = await usb.portPower('1-1.3');
    expect(port3).toMatchObject({ hubPath: '1-1', port: 3 });
    await port3.setPower(false);
    expect(sysfs.disableValue('1-1', 3)).toBe('1');
    await port3.setPower(true);
    expect(sysfs.disableValue('1-1', 3)).toBe('0');
    const port5 = await usb.portPower('1-1.5');
    await port5.setPower(false);
    expect(sysfs.disableValue('1-1', 5)).toBe('1');

    // One refused ClearPortFeature, then sysfs only; the descriptor is still read through USB.
    expect(refused).toEqual(['Out request 1 port 3']);
    expect(hub.transfers).toEqual(['a0 06 00 29 00 00 47 00']);
    expect(fallback.calls).toEqual(['isAvailable 1-1 3', 'setPower 1-1 3 off', 'setPower 1-1 3 on', 'setPower 1-1 5 off']);
    const logged = lines();
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ hubPath: '1-1', msg: expect.stringContaining('through the fallback') });
    expect(logged[0]!['reason']).toMatch(/ClearPortFeature\(PORT_POWER, port 3\) failed: controlTransferOut error: invalid state \(the usb package sends hub-port requests only through a claimed interface/);
    await usb.close();
  });

  it('does not fall back on a genuine stall (a virtual-lab-like hub): the hub\'s answer is the error', async () => {
    sysfs.addHub('1-1', 7);
    const hub = sevenPortHub(INDIVIDUAL, { stall: [powerOff(3)] });
    const fallback = recordedFallback(sysfs.root);
    const usb = new DiscoveryBenchUsb(hubDiscovery({ '1-1': hub }), { fallback });

    const err = await failure((await usb.portPower('1-1.3')).setPower(false));
    expect(err.code).toBe('HUB_REQUEST_FAILED');
    expect(err.message).toBe('hub 1-1: ClearPortFeature(PORT_POWER, port 3) failed: the hub stalled (request not supported)');
    expect(fallback.calls).toEqual([]);
    expect(sysfs.disableValue('1-1', 3)).toBe('0');
    // And the next request still goes to the hub.
    await (await usb.portPower('1-1.4')).setPower(false);
    expect(hub.isPowered(4)).toBe(false);
    expect(fallback.calls).toEqual([]);
  });

  it('keeps the refusal when the fallback cannot switch that port, or when there is no fallback', async () => {
    sysfs.addHub('1-1', 7, { disableFiles: false });
    const fallback = recordedFallback(sysfs.root);
    const withFallback = new DiscoveryBenchUsb(hubDiscovery({ '1-1': usb310Hub(sevenPortHub(), []) }), { fallback });
    const err = await failure((await withFallback.portPower('1-1.3')).setPower(false));
    expect(err.code).toBe('HUB_REQUEST_FAILED');
    expect(err.message).toMatch(/invalid state/);
    expect(fallback.calls).toEqual(['isAvailable 1-1 3']);

    const without = new DiscoveryBenchUsb(hubDiscovery({ '1-1': usb310Hub(sevenPortHub(), []) }));
    expect((await failure((await without.portPower('1-1.3')).setPower(false))).message).toMatch(/invalid state/);
  });

  it('refuses a ganged hub with HUB_NO_PORT_POWER before any sysfs access', async () => {
    sysfs.addHub('1-1', 7);
    const refused: string[] = [];
    const fallback = recordedFallback(sysfs.root);
    const usb = new DiscoveryBenchUsb(hubDiscovery({ '1-1': usb310Hub(sevenPortHub(GANGED), refused) }), { fallback });
    const err = await failure(usb.portPower('1-1.3'));
    expect(err.code).toBe('HUB_NO_PORT_POWER');
    expect(fallback.calls).toEqual([]);
    expect(refused).toEqual([]);
    expect(sysfs.disableValue('1-1', 3)).toBe('0');
  });

  it('uses the fallback when the hub descriptor cannot be read or the hub is not enumerated, if it can switch the port', async () => {
    sysfs.addHub('1-1', 7);
    const stalling = sevenPortHub(INDIVIDUAL, { stall: ['a0 06 00 29 00 00 47 00'] });
    const fallback = recordedFallback(sysfs.root);
    const usb = new DiscoveryBenchUsb(hubDiscovery({ '1-1': stalling }), { fallback });
    await (await usb.portPower('1-1.2')).setPower(false);
    expect(sysfs.disableValue('1-1', 2)).toBe('1');

    const notEnumerated = new DiscoveryBenchUsb(hubDiscovery({}), { fallback });
    await (await notEnumerated.portPower('1-1.6')).setPower(false);
    expect(sysfs.disableValue('1-1', 6)).toBe('1');

    // A port the fallback cannot switch keeps the original error.
    expect((await failure(usb.portPower('1-2.1'))).code).toBe('HUB_NOT_FOUND');
    expect((await failure(notEnumerated.portPower('1-1.9'))).code).toBe('HUB_NOT_FOUND');
  });
});
