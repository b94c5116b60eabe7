import { describe, expect, it } from 'vitest';
import { HilError } from '../../runner/errors.ts';
import { parseHubDescriptor } from '../../runner/usb/hub-descriptor.ts';
import { parsePortStatus } from '../../runner/usb/hub-port-status.ts';
import { hubDescriptorBytes } from './recording-hub.ts';

function parseError(bytes: number[] | Uint8Array): HilError {
  try {
    parseHubDescriptor(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), 'hub 1-1');
  } catch (err: unknown) {
    if (err instanceof HilError) return err;
    throw err;
  }
  throw new Error('expected parseHubDescriptor to throw');
}

describe('parseHubDescriptor', () => {
  it('reads a 7-port hub with individual switching and over-current, indicators and a non-removable port', () => {
    // 09 29 07 89 00 32 64 | DeviceRemovable 0x10 (port 4 fixed) | PortPwrCtrlMask ff
    const descriptor = parseHubDescriptor(new Uint8Array([0x09, 0x29, 0x07, 0x89, 0x00, 0x32, 0x64, 0x10, 0xff]));
    expect(descriptor).toEqual({
      ports: 7,
      powerSwitching: 'individual',
      overCurrent: 'individual',
      compound: false,
      indicators: true,
      powerOnToPowerGoodMs: 100,
      controllerCurrentMa: 100,
      removable: [true, true, true, false, true, true, true],
    });
  });

  it.each([
    [0x0000, 'ganged', 'global'],
    [0x0001, 'individual', 'global'],
    [0x0002, 'none', 'global'],
    [0x0003, 'none', 'global'],
    [0x0008, 'ganged', 'individual'],
    [0x0010, 'ganged', 'none'],
    [0x0019, 'individual', 'none'],
  ] as const)('wHubCharacteristics %i → switching %s, over-current %s', (characteristics, switching, overCurrent) => {
    const descriptor = parseHubDescriptor(hubDescriptorBytes({ ports: 4, characteristics, pwrOn2PwrGood: 1 }));
    expect(descriptor.powerSwitching).toBe(switching);
    expect(descriptor.overCurrent).toBe(overCurrent);
    expect(descriptor.powerOnToPowerGoodMs).toBe(2);
  });

  it('reads the compound bit', () => {
    expect(parseHubDescriptor(hubDescriptorBytes({ ports: 2, characteristics: 0x0005, pwrOn2PwrGood: 0 })).compound).toBe(true);
  });

  it('reads a two-byte removable bitmap of a 10-port hub and ignores bytes past the descriptor', () => {
    const bytes = hubDescriptorBytes({ ports: 10, characteristics: 0x0001, pwrOn2PwrGood: 100, nonRemovableMask: (1 << 1) | (1 << 9) });
    const padded = new Uint8Array([...bytes, 0xde, 0xad]);
    const descriptor = parseHubDescriptor(padded);
    expect(descriptor.ports).toBe(10);
    expect(descriptor.powerOnToPowerGoodMs).toBe(200);
    expect(descriptor.removable).toEqual([false, true, true, true, true, true, true, true, false, true]);
  });

  it('rejects an answer that is too short', () => {
    const err = parseError([0x09]);
    expect(err.code).toBe('HUB_REQUEST_FAILED');
    expect(err.message).toBe('hub 1-1: malformed hub descriptor: 1 byte(s), a hub descriptor has at least 8');
  });

  it('rejects an empty answer', () => {
    expect(parseError([]).message).toContain('0 byte(s)');
  });

  it('rejects a descriptor of another type', () => {
    const err = parseError([0x12, 0x01, 0x00, 0x02, 0x09, 0x00, 0x01, 0x40]);
    expect(err.message).toContain('descriptor type 0x01, expected 0x29');
  });

  it('names a SuperSpeed hub descriptor', () => {
    expect(parseError([0x0c, 0x2a, 0x04, 0x09, 0x00, 0x32, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]).message).toContain('SuperSpeed');
  });

  it('rejects a hub reporting no ports', () => {
    expect(parseError([0x09, 0x29, 0x00, 0x01, 0x00, 0x32, 0x64, 0x00, 0xff]).message).toContain('bNbrPorts is 0');
  });

  it('rejects a descriptor cut off before its removable bitmap', () => {
    expect(parseError([0x09, 0x29, 0x04, 0x01, 0x00, 0x32, 0x64]).message).toContain('truncated at 7 bytes');
  });

  it('rejects a bDescLength too small for the port count', () => {
    // 9 ports need a two-byte bitmap: 7 + 2 = 9 at least, this one says 8
    expect(parseError([0x08, 0x29, 0x09, 0x01, 0x00, 0x32, 0x64, 0x00, 0x00]).message).toContain('bDescLength 8 is too small for 9 ports');
  });

  it('rejects a fixed part shorter than 7 bytes', () => {
    expect(parseError([0x09, 0x29, 0x04, 0x01]).message).toContain('4 bytes, the fixed part alone has 7');
  });
});

describe('parsePortStatus', () => {
  it('reads a powered, connected, enabled high-speed port with a connection change', () => {
    // wPortStatus 0x0503: connection, enable, power, high-speed; wPortChange 0x0001
    const status = parsePortStatus(new Uint8Array([0x03, 0x05, 0x01, 0x00]));
    expect(status).toEqual({
      connected: true, enabled: true, suspended: false, overCurrent: false, resetting: false, powered: true,
      lowSpeed: false, highSpeed: true, testMode: false, indicatorControl: false,
      changed: { connection: true, enable: false, suspend: false, overCurrent: false, reset: false },
      raw: { portStatus: 0x0503, portChange: 0x0001 },
    });
  });

  it('reads every status and change bit at its USB 2.0 position', () => {
    const status = parsePortStatus(new Uint8Array([0x1c, 0x1a, 0x1e, 0x00]));
    expect(status).toMatchObject({
      connected: false, enabled: false, suspended: true, overCurrent: true, resetting: true, powered: false,
      lowSpeed: true, highSpeed: false, testMode: true, indicatorControl: true,
      changed: { connection: false, enable: true, suspend: true, overCurrent: true, reset: true },
    });
  });

  it('reads an unpowered empty port', () => {
    const status = parsePortStatus(new Uint8Array([0, 0, 0, 0]));
    expect(status.powered).toBe(false);
    expect(status.connected).toBe(false);
  });

  it('rejects fewer than 4 bytes', () => {
    expect(() => parsePortStatus(new Uint8Array([0x00, 0x01, 0x00]), 'hub 1-1 port 2')).toThrow(/hub 1-1 port 2: GetPortStatus answered 3 byte\(s\), expected 4/);
  });
});
