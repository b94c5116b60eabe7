import { afterEach, describe, expect, it } from 'vitest';
import { NodeSysfsReader } from '../../runner/bench/sysfs-reader.ts';
import { readSysfsTtys, ttyByPortPath } from '../../runner/bench/sysfs-tty-map.ts';
import { FakeSysfs } from './fake-sysfs.ts';
import { SEVEN_PORT_HUB_BENCH } from './fixtures/seven-port-hub-bench.ts';

let sysfs: FakeSysfs | undefined;
afterEach(() => {
  sysfs?.cleanup();
  sysfs = undefined;
});

describe('readSysfsTtys', () => {
  it('finds the port path of ACM and usb-serial ttys and skips virtual and platform ttys', async () => {
    sysfs = new FakeSysfs();
    for (const device of SEVEN_PORT_HUB_BENCH) sysfs.addDevice(device);
    const ttys = await readSysfsTtys(new NodeSysfsReader(sysfs.root));
    expect(ttys?.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'ttyACM0', portPath: '1-1.3', interfaceNumber: 0 },
      { name: 'ttyACM1', portPath: '1-1.4', interfaceNumber: 0 },
      { name: 'ttyUSB0', portPath: '1-1.1', interfaceNumber: 0 },
      { name: 'ttyUSB1', portPath: '1-1.2', interfaceNumber: 0 },
    ]);
  });

  it('returns null when there is no class/tty', async () => {
    sysfs = new FakeSysfs({ withClassTty: false });
    expect(await readSysfsTtys(new NodeSysfsReader(sysfs.root))).toBeNull();
  });

  it('skips a tty whose device link dangles', async () => {
    sysfs = new FakeSysfs();
    const board = SEVEN_PORT_HUB_BENCH[3]!;
    sysfs.addDevice(board);
    sysfs.removeDevice({ ...board, tty: null });
    expect(await readSysfsTtys(new NodeSysfsReader(sysfs.root))).toEqual([]);
  });
});

describe('ttyByPortPath', () => {
  it('picks the tty on the lowest interface, then the lowest name', () => {
    const byPath = ttyByPortPath([
      { name: 'ttyUSB3', portPath: '1-1.5', interfaceNumber: 1 },
      { name: 'ttyUSB2', portPath: '1-1.5', interfaceNumber: 0 },
      { name: 'ttyACM10', portPath: '1-1.6', interfaceNumber: 0 },
      { name: 'ttyACM9', portPath: '1-1.6', interfaceNumber: 0 },
    ]);
    expect(Object.fromEntries(byPath)).toEqual({ '1-1.5': 'ttyUSB2', '1-1.6': 'ttyACM9' });
  });
});
