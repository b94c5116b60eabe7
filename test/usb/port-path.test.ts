import { describe, expect, it } from 'vitest';
import { childPortPath, formatPortPath, isDevicePortPath, parseInterfaceDirName } from '../../runner/usb/port-path.ts';

describe('port paths', () => {
  it('builds Linux names from the usb package bus id (zero-padded) and port chain', () => {
    expect(formatPortPath('001', [1])).toBe('1-1');
    expect(formatPortPath('001', [1, 3])).toBe('1-1.3');
    expect(formatPortPath('012', [4, 2, 7])).toBe('12-4.2.7');
    expect(formatPortPath(3, [2])).toBe('3-2');
  });

  it('names a root hub usb<bus> and keeps a non-numeric bus id as it is', () => {
    expect(formatPortPath('002', [])).toBe('usb2');
    expect(formatPortPath('14', [1])).toBe('14-1');
    expect(formatPortPath('PCI0', [1])).toBe('PCI0-1');
  });

  it('derives the path of a hub port', () => {
    expect(childPortPath('1-1', 3)).toBe('1-1.3');
    expect(childPortPath('1-1.4', 2)).toBe('1-1.4.2');
    expect(childPortPath('usb1', 3)).toBe('1-3');
  });

  it('tells device paths from interfaces and root hubs', () => {
    expect(isDevicePortPath('1-1.3')).toBe(true);
    expect(isDevicePortPath('1-1.3:1.0')).toBe(false);
    expect(isDevicePortPath('usb1')).toBe(false);
  });

  it('parses interface directory names', () => {
    expect(parseInterfaceDirName('1-1.3:1.0')).toEqual({ portPath: '1-1.3', configuration: 1, interfaceNumber: 0 });
    expect(parseInterfaceDirName('2-4:1.12')).toEqual({ portPath: '2-4', configuration: 1, interfaceNumber: 12 });
    expect(parseInterfaceDirName('1-1.3')).toBeNull();
    expect(parseInterfaceDirName('ttyUSB0')).toBeNull();
    expect(parseInterfaceDirName('0000:00:14.0')).toBeNull();
  });
});
