import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { UsbHotplugEvent } from '../../../runner/bench/usb-discovery.ts';
import { PortFeature } from '../../../sim/usb/hub-protocol.ts';
import { labHubTimings, planLabHubs } from '../../../sim/usb/lab-hubs.ts';
import { SimLab, type SimLabBoardSpec } from '../../../sim/sim-lab.ts';
import { fakeHostFactory } from '../board/fake-micropython-host.ts';
import { clearPortFeature, portStatus, setPortFeature } from './hub-requests.ts';

const dir = mkdtempSync(join(tmpdir(), 'hil-lab-usb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The boards of hil-config/bench.yaml: four native-USB S3s and two CP2104 ESP32s on hub 1-1. */
const S3 = { chip: 'esp32s3', flashSizeBytes: 16 * 2 ** 20, psramBytes: 8 * 2 ** 20, usb: 'native' } as const;
const ESP32 = { chip: 'esp32', flashSizeBytes: 4 * 2 ** 20, psramBytes: 0, usb: 'uart-bridge' } as const;
const BENCH: SimLabBoardSpec[] = [
  { id: 's3-a', portPath: '1-1.1', mac: '7c:df:a1:00:00:01', ...S3 },
  { id: 's3-b', portPath: '1-1.2', mac: '7c:df:a1:00:00:02', ...S3 },
  { id: 's3-c', portPath: '1-1.3', mac: '7c:df:a1:00:00:03', ...S3 },
  { id: 's3-d', portPath: '1-1.4', mac: '7c:df:a1:00:00:04', ...S3 },
  { id: 'esp32-a', portPath: '1-1.5', mac: '24:0a:c4:00:00:05', ...ESP32 },
  { id: 'esp32-b', portPath: '1-1.6', mac: '24:0a:c4:00:00:06', ...ESP32 },
];

function nextEvent(lab: SimLab, predicate: (event: UsbHotplugEvent) => boolean, timeoutMs = 5000): Promise<UsbHotplugEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error('no matching hot-plug event'));
    }, timeoutMs);
    const unsubscribe = lab.discovery.onHotplug((event) => {
      if (!predicate(event)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(event);
    });
  });
}

describe('SimLab USB', () => {
  it('lists the hub and six boards, and a port power cycle over hub requests re-enumerates that board with a new address', async () => {
    const lab = await SimLab.start({ boards: BENCH, stateDir: undefined, stockFirmwareVersion: 'v1.24.1', speedFactor: 0, createHost: fakeHostFactory().create });
    try {
      expect(lab.hubs.map((hub) => [hub.portPath, hub.portCount, hub.powerSwitching])).toEqual([['1-1', 7, 'individual']]);
      const { devices } = await lab.discovery.list();
      expect(devices).toHaveLength(7);
      expect(devices[0]).toMatchObject({ portPath: '1-1', isHub: true, vendorId: 0x2001, productId: 0xf103, serial: null });
      const boards = devices.slice(1);
      expect(boards.map((d) => d.portPath)).toEqual(BENCH.map((b) => b.portPath));
      expect(new Set(devices.map((d) => d.address)).size).toBe(7);
      for (const [index, device] of boards.entries()) {
        expect(device.serial?.url).toBe(lab.boards[index]!.url);
        expect(device.isHub).toBe(false);
      }
      expect(boards.slice(0, 4).map((d) => `${d.vendorId.toString(16)}:${d.productId.toString(16)}`)).toEqual(Array(4).fill('303a:4001'));
      expect(boards[0]!.serialNumber).toBe('7cdfa10000010000');
      expect(boards.slice(0, 4).map((d) => d.serial?.ttyPath).sort()).toEqual(['ttyACM0', 'ttyACM1', 'ttyACM2', 'ttyACM3']);
      expect(boards.slice(4).map((d) => `${d.vendorId.toString(16)}:${d.productId.toString(16)} ${d.serial?.ttyPath}`).sort())
        .toEqual(['10c4:ea60 ttyUSB0', '10c4:ea60 ttyUSB1']);

      expect(await lab.discovery.openHub('1-9')).toBeNull();
      const hub = await lab.discovery.openHub('1-1');
      expect(hub).not.toBeNull();
      await hub!.open();
      const before = boards[4]!;
      const detached = nextEvent(lab, (e) => e.type === 'detach' && e.portPath === '1-1.5');
      expect((await clearPortFeature(hub!, PortFeature.PORT_POWER, 5)).status).toBe('ok');
      await detached;
      expect(lab.boards[4]!.board.state).toBe('off');
      expect(await portStatus(hub!, 5)).toMatchObject({ status: 0 });
      expect((await lab.discovery.list()).devices.map((d) => d.portPath)).not.toContain('1-1.5');

      const attached = nextEvent(lab, (e) => e.type === 'attach' && e.device.portPath === '1-1.5');
      expect((await setPortFeature(hub!, PortFeature.PORT_POWER, 5)).status).toBe('ok');
      const event = await attached;
      expect(event.type === 'attach' && event.device).toMatchObject({
        vendorId: before.vendorId, productId: before.productId, serialNumber: before.serialNumber, serial: before.serial,
      });
      expect(event.type === 'attach' && event.device.address).not.toBe(before.address);
      await hub!.close();
    } finally {
      await lab.close();
    }
  });

  it('uses the hubs it is given, and refuses a USB layout that cannot exist before touching the state folder', async () => {
    const stateDir = join(dir, 'never-created');
    const start = (boards: SimLabBoardSpec[], hubs?: { portPath: string; ports: number }[]) =>
      SimLab.start({ boards, stateDir, stockFirmwareVersion: 'v1.24.1', speedFactor: 0, createHost: fakeHostFactory().create, ...(hubs ? { hubs } : {}) });
    await expect(start([BENCH[4]!, { ...BENCH[5]!, portPath: '1-1.5' }])).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('esp32-a and esp32-b are both on port 1-1.5') });
    await expect(start([BENCH[4]!], [{ portPath: '1-1', ports: 4 }])).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('hub 1-1 has ports 1-4, there is no port 5') });
    await expect(start([BENCH[4]!], [{ portPath: '1-2', ports: 7 }])).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('no hub at 1-1') });
    expect(existsSync(stateDir)).toBe(false);

    const lab = await SimLab.start({ boards: [BENCH[4]!], stateDir: undefined, stockFirmwareVersion: 'v1.24.1', speedFactor: 0, createHost: fakeHostFactory().create, hubs: [{ portPath: '1-1', ports: 5, powerSwitching: 'ganged' }, { portPath: '2-1', ports: 2 }] });
    try {
      expect(lab.hubs.map((hub) => `${hub.portPath} ${hub.portCount} ${hub.powerSwitching}`)).toEqual(['1-1 5 ganged', '2-1 2 individual']);
      expect((await lab.discovery.list()).devices.map((d) => d.portPath)).toEqual(['1-1', '1-1.5', '2-1']);
    } finally {
      await lab.close();
    }
    expect((await lab.discovery.list()).devices).toEqual([]);
  });
});

describe('planLabHubs', () => {
  it('derives one 7-port (or larger) individually switched hub per parent path', () => {
    const plan = planLabHubs([{ id: 'a', portPath: '1-1.3' }, { id: 'b', portPath: '1-1.3.9' }, { id: 'c', portPath: '1-1.1' }], undefined);
    expect(plan.hubs).toEqual([
      { portPath: '1-1', ports: 7, powerSwitching: 'individual' },
      { portPath: '1-1.3', ports: 9, powerSwitching: 'individual' },
    ]);
    expect(plan.placements).toEqual([{ hubIndex: 0, port: 3 }, { hubIndex: 1, port: 9 }, { hubIndex: 0, port: 1 }]);
  });

  it('reports every problem at once', () => {
    let error: unknown;
    try {
      planLabHubs([{ id: 'a', portPath: '1-1' }, { id: 'b', portPath: 'usb3' }, { id: 'c', portPath: '1-1.16' }], undefined);
    } catch (err: unknown) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', evidence: { problems: [
      'board a: 1-1 is a root port of the host controller; in the virtual lab boards sit on a hub port (e.g. 1-1.1)',
      'board b: "usb3" is not a USB port path (expected bus-port.port..., e.g. 1-1.3)',
      'port 1-1.16: a USB 2.0 hub has at most 15 ports',
      'board c: hub 1-1 has ports 1-15, there is no port 16',
    ] } });
  });

  it('scales hub delays with the lab speed and drops them when unpaced', () => {
    expect(labHubTimings(1)).toEqual({ powerOnToPowerGoodMs: 100, enumerationDelayMs: 120, portResetMs: 10 });
    expect(labHubTimings(10)).toEqual({ powerOnToPowerGoodMs: 10, enumerationDelayMs: 12, portResetMs: 1 });
    expect(labHubTimings(0)).toEqual({ powerOnToPowerGoodMs: 0, enumerationDelayMs: 0, portResetMs: 0 });
  });
});
