import { describe, expect, it } from 'vitest';
import { hubDescriptor } from '../../../sim/usb/hub-protocol.ts';
import { SimUsbHub } from '../../../sim/usb/sim-usb-hub.ts';
import { FakeClock } from './usb-fakes.ts';
import { bytesOf, send } from './hub-requests.ts';

async function descriptorOf(hub: SimUsbHub, length: number): Promise<number[]> {
  const device = hub.controlDevice();
  await device.open();
  const result = await send(device, `a0 06 00 29 00 00 ${(length & 0xff).toString(16)} ${(length >> 8).toString(16)}`);
  expect(result.status).toBe('ok');
  return bytesOf(result);
}

describe('hub descriptor (USB 2.0 §11.23.2.1)', () => {
  it.each([
    ['individual', 0x09], // switching 01, per-port over-current 01 << 3
    ['ganged', 0x00],
    ['none', 0x02], // switching 10: no power switching
  ] as const)('a 7-port hub with %s switching: wHubCharacteristics 0x%s', async (powerSwitching, characteristics) => {
    const hub = new SimUsbHub({ portPath: '1-1', ports: 7, powerSwitching, clock: new FakeClock() });
    expect(await descriptorOf(hub, 0xff)).toEqual([
      9, 0x29, 7, characteristics, 0x00,
      50, // bPwrOn2PwrGood: 100 ms in 2 ms units
      100, // bHubContrCurrent
      0x00, // DeviceRemovable: ports 1-7 removable (bit 0 reserved)
      0xff, // PortPwrCtrlMask
    ]);
  });

  it('is cut to the requested length, as a device answers a short GET_DESCRIPTOR', async () => {
    const hub = new SimUsbHub({ portPath: '1-1', ports: 4, clock: new FakeClock() });
    expect(await descriptorOf(hub, 2)).toEqual([9, 0x29]);
    expect(await descriptorOf(hub, 0)).toEqual([]);
  });

  it('uses two bitmap bytes from 8 ports on, and rounds the power-good time up to 2 ms units', () => {
    expect([...hubDescriptor({ ports: 15, powerSwitching: 'individual', powerOnToPowerGoodMs: 101, controllerCurrentMa: 0 })])
      .toEqual([11, 0x29, 15, 0x09, 0x00, 51, 0, 0x00, 0x00, 0xff, 0xff]);
    expect(hubDescriptor({ ports: 8, powerSwitching: 'ganged', powerOnToPowerGoodMs: 0, controllerCurrentMa: 0 })).toHaveLength(11);
    expect(hubDescriptor({ ports: 7, powerSwitching: 'ganged', powerOnToPowerGoodMs: 0, controllerCurrentMa: 0 })).toHaveLength(9);
  });

  it('takes the power-good time from the hub options', async () => {
    const hub = new SimUsbHub({ portPath: '2-3', ports: 3, powerOnToPowerGoodMs: 20, clock: new FakeClock() });
    expect((await descriptorOf(hub, 9))[5]).toBe(10);
  });

  it('rejects hub options a USB 2.0 hub cannot have', () => {
    expect(() => new SimUsbHub({ portPath: '1-1', ports: 16 })).toThrow(RangeError);
    expect(() => new SimUsbHub({ portPath: '1-1', ports: 0 })).toThrow(/1 to 15 ports/);
    expect(() => new SimUsbHub({ portPath: 'hub1', ports: 4 })).toThrow(/not a USB port path/);
    expect(() => new SimUsbHub({ portPath: '1-1', ports: 4, powerOnToPowerGoodMs: 600 })).toThrow(/0\.\.510/);
  });
});
