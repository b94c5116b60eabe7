import { describe, expect, it } from 'vitest';
import { matchSerialPorts, type SerialMatchCandidate } from '../../runner/bench/physical-serial-ports.ts';

const cp2104 = (portPath: string, serialNumber: string | null): SerialMatchCandidate => ({ portPath, vendorId: 0x10c4, productId: 0xea60, serialNumber });

describe('matchSerialPorts', () => {
  it('matches by VID/PID (hex, any case, optional 0x) and serial string', () => {
    const matched = matchSerialPorts([cp2104('1-1.1', 'A'), cp2104('1-1.2', 'B')], [
      { path: '/dev/ttyUSB1', vendorId: '0x10C4', productId: 'EA60', serialNumber: 'B' },
      { path: '/dev/ttyUSB0', vendorId: '10c4', productId: 'ea60', serialNumber: 'A' },
      { path: '/dev/ttyS0' },
    ]);
    expect(Object.fromEntries(matched)).toEqual({ '1-1.1': '/dev/ttyUSB0', '1-1.2': '/dev/ttyUSB1' });
  });

  it('matches a device without a serial string when it is the only one with its VID/PID', () => {
    const matched = matchSerialPorts([cp2104('1-1.1', null)], [{ path: '/dev/ttyUSB0', vendorId: '10c4', productId: 'ea60', serialNumber: 'X' }]);
    expect(matched.get('1-1.1')).toBe('/dev/ttyUSB0');
  });

  it('leaves devices it cannot tell apart without a tty', () => {
    const matched = matchSerialPorts([cp2104('1-1.1', null), cp2104('1-1.2', null)], [
      { path: '/dev/ttyUSB0', vendorId: '10c4', productId: 'ea60' },
      { path: '/dev/ttyUSB1', vendorId: '10c4', productId: 'ea60' },
    ]);
    expect(matched.size).toBe(0);
  });

  it('does not give a device a port whose serial string differs, or whose ids are not hex', () => {
    const matched = matchSerialPorts([cp2104('1-1.1', 'A'), cp2104('1-1.2', 'B')], [
      { path: '/dev/ttyUSB0', vendorId: '10c4', productId: 'ea60', serialNumber: 'C' },
      { path: '/dev/ttyUSB1', vendorId: 'zz', productId: 'ea60', serialNumber: 'B' },
    ]);
    expect(matched.size).toBe(0);
  });
});
