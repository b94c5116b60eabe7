/**
 * A separate process that owns a virtual lab (as `hil sim` does), for the cross-process test.
 * Run with `node --import tsx lab-owner-child.ts <stateDir>`: starts a two-board lab with the fake
 * MicroPython host, prints "ready", and closes the lab when its stdin ends.
 */
import { SimLab } from '../../../sim/sim-lab.ts';
import { fakeHostFactory } from '../board/fake-micropython-host.ts';

const stateDir = process.argv[2];
if (stateDir === undefined) throw new Error('usage: lab-owner-child.ts <stateDir>');
const lab = await SimLab.start({
  boards: [
    { id: 'e1', chip: 'esp32', portPath: '1-1.5', flashSizeBytes: 4 * 2 ** 20, psramBytes: 0, usb: 'uart-bridge', mac: '24:0a:c4:00:00:01' },
    { id: 's1', chip: 'esp32s3', portPath: '1-1.1', flashSizeBytes: 16 * 2 ** 20, psramBytes: 8 * 2 ** 20, usb: 'native', mac: '7c:df:a1:00:00:02' },
  ],
  stateDir,
  stockFirmwareVersion: 'v1.24.1',
  speedFactor: 0,
  createHost: fakeHostFactory().create,
});
process.stdout.write('ready\n');
process.stdin.resume();
await new Promise<void>((resolve) => process.stdin.once('end', () => resolve()));
await lab.close();
process.stdout.write('closed\n');
