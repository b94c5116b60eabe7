/**
 * A process attached to a running virtual lab sees its USB side through RemoteLabDiscovery: the same
 * listing, hub power switching with the runner's own HubPortPower, and the hot-plug events that
 * follow — and a lab that goes away is a `problem`, not a crash.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiscoveryBenchUsb } from '../../../runner/bench/discovery-bench-usb.ts';
import type { UsbHotplugEvent } from '../../../runner/bench/usb-discovery.ts';
import { HubPortPower } from '../../../runner/usb/hub-port-power.ts';
import { RemoteLabDiscovery } from '../../../sim/control/remote-lab-discovery.ts';
import { SimLab, type SimLabBoardSpec } from '../../../sim/sim-lab.ts';
import { fakeHostFactory } from '../board/fake-micropython-host.ts';

const BOARDS: SimLabBoardSpec[] = [
  { id: 'e1', chip: 'esp32', portPath: '1-1.5', flashSizeBytes: 4 * 2 ** 20, psramBytes: 0, usb: 'uart-bridge', mac: '24:0a:c4:00:00:01' },
  { id: 's1', chip: 'esp32s3', portPath: '1-1.1', flashSizeBytes: 16 * 2 ** 20, psramBytes: 8 * 2 ** 20, usb: 'native', mac: '7c:df:a1:00:00:02' },
];

const dir = mkdtempSync(join(tmpdir(), 'hil-lab-control-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function startLab(stateDir: string | undefined): Promise<SimLab> {
  return SimLab.start({ boards: BOARDS, stateDir, stockFirmwareVersion: 'v1.24.1', speedFactor: 0, createHost: fakeHostFactory().create });
}

/** Records events and resolves when one matches. */
function recorder(discovery: RemoteLabDiscovery) {
  const events: UsbHotplugEvent[] = [];
  const waiters: { match: (event: UsbHotplugEvent) => boolean; resolve: (event: UsbHotplugEvent) => void }[] = [];
  const stop = discovery.onHotplug((event) => {
    events.push(event);
    for (const waiter of [...waiters]) {
      if (!waiter.match(event)) continue;
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(event);
    }
  });
  const next = (match: (event: UsbHotplugEvent) => boolean): Promise<UsbHotplugEvent> =>
    new Promise((resolve) => waiters.push({ match, resolve }));
  return { events, next, stop };
}

const summary = (event: UsbHotplugEvent): string => (event.type === 'attach' ? `attach ${event.device.portPath}` : `detach ${event.portPath}`);

describe('RemoteLabDiscovery against a running SimLab', () => {
  let lab: SimLab;
  let remote: RemoteLabDiscovery;
  beforeAll(async () => {
    lab = await startLab(join(dir, 'shared'));
    remote = new RemoteLabDiscovery(lab.usbControlUrl);
  });
  afterAll(async () => {
    await remote.close();
    await lab.close();
  });

  it('is published in running-lab.json and lists exactly what the lab lists', async () => {
    expect(lab.usbControlUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const record = JSON.parse(readFileSync(join(dir, 'shared', 'running-lab.json'), 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ pid: process.pid, usbControlUrl: lab.usbControlUrl, boards: [{ id: 'e1' }, { id: 's1' }] });
    const snapshot = await remote.list();
    expect(snapshot).toEqual(await lab.discovery.list());
    expect(snapshot.devices.map((device) => device.portPath)).toEqual(['1-1', '1-1.1', '1-1.5']);
    expect(snapshot.problem).toBeUndefined();
  });

  it('power-cycles a port with the runner\'s HubPortPower over the remote hub; detach and attach arrive over the event stream', async () => {
    const before = (await lab.discovery.list()).devices.find((device) => device.portPath === '1-1.5')!;
    const { events, next, stop } = recorder(remote);
    const hub = (await remote.openHub('1-1'))!;
    const power = new HubPortPower(hub, { hubPath: '1-1' });
    try {
      // Events the transfer caused have reached the listener by the time it resolves, as in process.
      await power.setPortPower(5, false);
      expect(events.map(summary)).toEqual(['detach 1-1.5']);
      expect(lab.boards[0]!.board.state).toBe('off');
      expect((await remote.list()).devices.map((device) => device.portPath)).toEqual(['1-1', '1-1.1']);

      const attached = next((event) => event.type === 'attach' && event.device.portPath === '1-1.5');
      await power.setPortPower(5, true);
      const event = await attached;
      expect(event.type === 'attach' && event.device).toMatchObject({
        vendorId: 0x10c4, productId: 0xea60, serialNumber: before.serialNumber, serial: { url: lab.boards[0]!.url },
      });
      expect(event.type === 'attach' && event.device.address).not.toBe(before.address);

      const again = next((e) => e.type === 'attach' && e.device.portPath === '1-1.5');
      await power.powerCycle(5, { offMs: 0 });
      await again;
      expect(events.map(summary)).toEqual(['detach 1-1.5', 'attach 1-1.5', 'detach 1-1.5', 'attach 1-1.5']);
    } finally {
      stop();
      await power.close();
    }
    expect(hub.opened).toBe(false);
  });

  it('drives port power the way hil run will wire it: DiscoveryBenchUsb over the remote discovery', async () => {
    const usb = new DiscoveryBenchUsb(new RemoteLabDiscovery(lab.usbControlUrl));
    const { events, next, stop } = recorder(remote);
    try {
      const port = await usb.portPower('1-1.1');
      expect([port.hubPath, port.port]).toEqual(['1-1', 1]);
      await port.setPower(false);
      expect(events.map(summary)).toEqual(['detach 1-1.1']);
      const back = next((event) => event.type === 'attach' && event.device.portPath === '1-1.1' && event.device.serial !== null);
      await port.setPower(true);
      await back;
      await expect(usb.portPower('1-3.1')).rejects.toMatchObject({ code: 'HUB_NOT_FOUND' });
      await expect(usb.portPower('1-1.9')).rejects.toMatchObject({ code: 'USAGE' });
    } finally {
      stop();
      await usb.close();
    }
  });
});

describe('RemoteLabDiscovery when the lab goes away', () => {
  it('hears the event stream end without crashing, then reports the lab as a problem', async () => {
    const lab = await startLab(undefined);
    const url = lab.usbControlUrl;
    let streamEnded: ((reason: string) => void) | undefined;
    const ended = new Promise<string>((resolve) => { streamEnded = resolve; });
    const remote = new RemoteLabDiscovery(url, { onEventStreamEnd: (reason) => streamEnded!(reason) });
    try {
      const { events, stop } = recorder(remote);
      const hub = (await remote.openHub('1-1'))!;
      await hub.open();
      await lab.close();
      expect(await ended).toBe('the virtual lab closed the event stream');
      expect(events).toEqual([]); // the lab shutting down is not a hot-plug event
      const port = new URL(url).port;
      expect(await remote.list()).toEqual({ devices: [], problem: `virtual lab control at ${url} not reachable: connect ECONNREFUSED 127.0.0.1:${port}` });
      await expect(hub.controlTransferIn({ requestType: 'class', recipient: 'other', request: 0, value: 0, index: 5 }, 4))
        .rejects.toMatchObject({ name: 'NetworkError', message: expect.stringContaining('not reachable') });
      await expect(remote.openHub('1-1')).rejects.toMatchObject({ code: 'HUB_NOT_FOUND', message: expect.stringContaining(`virtual lab control at ${url} not reachable`) });
      stop();
    } finally {
      await remote.close();
      await lab.close();
    }
  });

  it('gives a problem snapshot for a URL where nothing listens, and subscribing there does no harm', async () => {
    const reasons: string[] = [];
    let streamEnded: (() => void) | undefined;
    const ended = new Promise<void>((resolve) => { streamEnded = resolve; });
    const remote = new RemoteLabDiscovery('http://127.0.0.1:1/', { onEventStreamEnd: (reason) => { reasons.push(reason); streamEnded!(); } });
    try {
      expect(remote.url).toBe('http://127.0.0.1:1');
      const stop = remote.onHotplug(() => {});
      await ended;
      expect(reasons).toEqual(['connect ECONNREFUSED 127.0.0.1:1']);
      expect(await remote.list()).toEqual({ devices: [], problem: 'virtual lab control at http://127.0.0.1:1 not reachable: connect ECONNREFUSED 127.0.0.1:1' });
      stop();
    } finally {
      await remote.close();
    }
  });
});
