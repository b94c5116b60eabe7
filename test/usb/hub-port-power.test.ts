import { describe, expect, it } from 'vitest';
import { HilError, isHilError } from '../../runner/errors.ts';
import type { Clock } from '../../runner/repl/clock.ts';
import { HubPortPower } from '../../runner/usb/hub-port-power.ts';
import { ManualClock } from '../repl/manual-clock.ts';
import { hubDescriptorBytes, RecordingHub, type RecordingHubOptions } from './recording-hub.ts';

/** wHubCharacteristics: individual switching, individual over-current, indicators. */
const INDIVIDUAL = 0x0089;
const GANGED = 0x0000;
const NO_SWITCHING = 0x0002;

const DESCRIPTOR_READ = 'a0 06 00 29 00 00 47 00';
const status = (port: number): string => `a3 00 00 00 0${port} 00 04 00`;
const powerOff = (port: number): string => `23 01 08 00 0${port} 00 00 00`;
const powerOn = (port: number): string => `23 03 08 00 0${port} 00 00 00`;

/** A clock that logs each wait into the hub's call list and lets it pass at once. */
function loggingClock(log: string[]): Clock {
  return {
    now: () => 0,
    setTimer(callback, delayMs) {
      log.push(`wait ${delayMs}ms`);
      queueMicrotask(callback);
      return () => undefined;
    },
  };
}

function sevenPortHub(extra: Partial<RecordingHubOptions> = {}): RecordingHub {
  return new RecordingHub({ descriptor: hubDescriptorBytes({ ports: 7, characteristics: INDIVIDUAL, pwrOn2PwrGood: 50 }), ...extra });
}

async function failure(promise: Promise<unknown>): Promise<HilError> {
  const err: unknown = await promise.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof HilError)) throw new Error(`expected a HilError, got ${String(err)}`);
  return err;
}

describe('HubPortPower requests (byte-exact setups)', () => {
  it('opens the hub, reads the descriptor once with GetHubDescriptor A0 06 00 29', async () => {
    const hub = sevenPortHub();
    const power = new HubPortPower(hub, { hubPath: '1-1' });
    const descriptor = await power.readDescriptor();
    await power.readDescriptor();
    expect(hub.calls).toEqual(['open', DESCRIPTOR_READ]);
    expect(descriptor).toMatchObject({ ports: 7, powerSwitching: 'individual', powerOnToPowerGoodMs: 100 });
  });

  it('reads a port status with GetPortStatus A3 00 00 00 pp 00 04 00', async () => {
    const hub = sevenPortHub();
    const power = new HubPortPower(hub, { hubPath: '1-1' });
    const portStatus = await power.portStatus(3);
    expect(hub.transfers).toEqual([DESCRIPTOR_READ, status(3)]);
    expect(portStatus.powered).toBe(true);
    expect(portStatus.raw).toEqual({ portStatus: 0x0100, portChange: 0 });
  });

  it('powers a port off with 23 01 08 00 pp 00 00 00 and on with 23 03 08 00 pp 00 00 00, checking the power bit each time', async () => {
    const hub = sevenPortHub();
    const power = new HubPortPower(hub, { hubPath: '1-1' });
    await power.setPortPower(5, false);
    expect(hub.isPowered(5)).toBe(false);
    await power.setPortPower(5, true);
    expect(hub.isPowered(5)).toBe(true);
    expect(hub.transfers).toEqual([DESCRIPTOR_READ, powerOff(5), status(5), powerOn(5), status(5)]);
  });

  it('sends only the switch request when verification is off', async () => {
    const hub = sevenPortHub();
    const power = new HubPortPower(hub, { hubPath: '1-1', verifySwitch: false });
    await power.setPortPower(1, false);
    expect(hub.transfers).toEqual([DESCRIPTOR_READ, powerOff(1)]);
  });

  it('power-cycles in order: off, wait offMs, on, wait bPwrOn2PwrGood × 2 ms', async () => {
    const hub = sevenPortHub();
    const power = new HubPortPower(hub, { hubPath: '1-1', clock: loggingClock(hub.calls) });
    await power.powerCycle(2, { offMs: 750 });
    expect(hub.calls).toEqual(['open', DESCRIPTOR_READ, powerOff(2), status(2), 'wait 750ms', powerOn(2), status(2), 'wait 100ms']);
    expect(hub.isPowered(2)).toBe(true);
  });

  it('does not resolve a power cycle before both waits have passed', async () => {
    const hub = sevenPortHub();
    const clock = new ManualClock();
    const power = new HubPortPower(hub, { hubPath: '1-1', clock });
    let done = false;
    const cycle = power.powerCycle(4, { offMs: 1000 }).then(() => { done = true; });
    await expect.poll(() => clock.pendingTimers).toBe(1);
    expect(hub.isPowered(4)).toBe(false);
    clock.advance(999);
    await Promise.resolve();
    expect(hub.isPowered(4)).toBe(false);
    clock.advance(1);
    await expect.poll(() => hub.isPowered(4)).toBe(true);
    expect(done).toBe(false);
    await expect.poll(() => clock.pendingTimers).toBe(1);
    clock.advance(100);
    await cycle;
    expect(done).toBe(true);
  });

  it('turns the port back on when a power cycle is cancelled while it is off', async () => {
    const hub = sevenPortHub();
    const clock = new ManualClock();
    const power = new HubPortPower(hub, { hubPath: '1-1', clock });
    const controller = new AbortController();
    const cycle = failure(power.powerCycle(6, { offMs: 5000, signal: controller.signal }));
    await expect.poll(() => clock.pendingTimers).toBe(1);
    controller.abort(new Error('job cancelled'));
    const err = await cycle;
    expect(err.code).toBe('ABORTED');
    expect(hub.isPowered(6)).toBe(true);
    expect(hub.transfers.slice(-2)).toEqual([powerOn(6), status(6)]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('closes the hub only if it opened it', async () => {
    const mine = sevenPortHub();
    const power = new HubPortPower(mine, { hubPath: '1-1' });
    await power.readDescriptor();
    await power.close();
    await power.close();
    expect(mine.calls.filter((c) => c === 'open' || c === 'close')).toEqual(['open', 'close']);

    const borrowed = sevenPortHub({ opened: true });
    const other = new HubPortPower(borrowed, { hubPath: '1-2' });
    await other.readDescriptor();
    await other.close();
    expect(borrowed.opened).toBe(true);
    expect(borrowed.calls).toEqual([DESCRIPTOR_READ]);
  });
});

describe('HubPortPower refusals and failures', () => {
  it('refuses a ganged hub with HUB_NO_PORT_POWER naming the hub and what it reported, sending no switch request', async () => {
    const hub = new RecordingHub({ descriptor: hubDescriptorBytes({ ports: 4, characteristics: GANGED, pwrOn2PwrGood: 50 }) });
    const err = await failure(new HubPortPower(hub, { hubPath: '1-1.4' }).setPortPower(2, false));
    expect(err.code).toBe('HUB_NO_PORT_POWER');
    expect(err.kind).toBe('bad-input');
    expect(err.message).toContain('hub 1-1.4');
    expect(err.message).toContain('ganged');
    expect(err.evidence).toMatchObject({ hubPath: '1-1.4', port: 2, portPath: '1-1.4.2', powerSwitching: 'ganged' });
    expect(hub.transfers).toEqual([DESCRIPTOR_READ]);
  });

  it('refuses a hub without power switching', async () => {
    const hub = new RecordingHub({ descriptor: hubDescriptorBytes({ ports: 4, characteristics: NO_SWITCHING, pwrOn2PwrGood: 50 }) });
    const err = await failure(new HubPortPower(hub, { hubPath: '2-3' }).powerCycle(1, { offMs: 10 }));
    expect(err.code).toBe('HUB_NO_PORT_POWER');
    expect(err.message).toContain('no power switching');
    expect(hub.transfers).toEqual([DESCRIPTOR_READ]);
  });

  it.each([0, 8, 1.5, -1])('refuses port %s on a 7-port hub without sending anything to a port', async (port) => {
    const hub = sevenPortHub();
    const power = new HubPortPower(hub, { hubPath: '1-1' });
    const err = await failure(power.setPortPower(port, true));
    expect(err.code).toBe('USAGE');
    expect(err.message).toContain('1..7');
    expect(isHilError(await failure(power.portStatus(port)), 'USAGE')).toBe(true);
    expect(hub.transfers).toEqual([DESCRIPTOR_READ]);
  });

  it('reports a stalled switch request naming the request and the port', async () => {
    const hub = sevenPortHub({ stall: [powerOff(3)] });
    const err = await failure(new HubPortPower(hub, { hubPath: '1-1' }).setPortPower(3, false));
    expect(err.code).toBe('HUB_REQUEST_FAILED');
    expect(err.kind).toBe('infrastructure');
    expect(err.message).toContain('ClearPortFeature(PORT_POWER, port 3)');
    expect(err.message).toContain('stalled');
    expect(err.evidence).toMatchObject({ portPath: '1-1.3', request: 'ClearPortFeature(PORT_POWER, port 3)' });
  });

  it('reports a stalled descriptor read with a hint about SuperSpeed hubs', async () => {
    const hub = sevenPortHub({ stall: [DESCRIPTOR_READ] });
    const err = await failure(new HubPortPower(hub, { hubPath: '2-1' }).readDescriptor());
    expect(err.code).toBe('HUB_REQUEST_FAILED');
    expect(err.message).toContain('GetHubDescriptor');
    expect(err.message).toContain('SuperSpeed');
  });

  it('wraps a transfer that throws (how the usb package reports a stall) with the request, port and cause', async () => {
    const cause = new Error('controlTransferIn error: endpoint STALL condition');
    const hub = sevenPortHub({ throwOn: { setups: [status(2)], error: cause } });
    const err = await failure(new HubPortPower(hub, { hubPath: '1-1' }).portStatus(2));
    expect(err.code).toBe('HUB_REQUEST_FAILED');
    expect(err.message).toContain('GetPortStatus(port 2)');
    expect(err.message).toContain('STALL');
    expect(err.cause).toBe(cause);
  });

  it('reports a hub whose power bit does not change as not switching VBUS', async () => {
    const hub = sevenPortHub({ stuckPorts: [7] });
    const err = await failure(new HubPortPower(hub, { hubPath: '1-1' }).setPortPower(7, false));
    expect(err.code).toBe('HUB_REQUEST_FAILED');
    expect(err.message).toContain('does not switch VBUS');
    expect(err.message).toContain('port 7');
  });

  it('reports a short GetPortStatus answer', async () => {
    const hub = sevenPortHub({ portStatusLength: 2 });
    const err = await failure(new HubPortPower(hub, { hubPath: '1-1' }).portStatus(1));
    expect(err.code).toBe('HUB_REQUEST_FAILED');
    expect(err.message).toContain('2 byte(s)');
  });

  it('reports a hub that cannot be opened', async () => {
    const hub = sevenPortHub();
    hub.open = async () => { throw new Error('open error: Permission denied (os error 13)'); };
    const err = await failure(new HubPortPower(hub, { hubPath: '1-1' }).readDescriptor());
    expect(err.code).toBe('HUB_REQUEST_FAILED');
    expect(err.message).toContain('Permission denied');
    expect(hub.transfers).toEqual([]);
  });

  it('rejects a negative off time before touching the hub', async () => {
    const hub = sevenPortHub();
    const err = await failure(new HubPortPower(hub, { hubPath: '1-1' }).powerCycle(1, { offMs: -5 }));
    expect(err.code).toBe('USAGE');
    expect(hub.calls).toEqual([]);
  });
});
