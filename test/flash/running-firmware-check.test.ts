import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partsMatchRunningFirmware } from '../../runner/flash/running-firmware-check.ts';
import { openRfc2217Link } from '../../runner/link/rfc2217-link.ts';
import type { SerialLink } from '../../runner/link/serial-link.ts';
import { MicroPythonRepl } from '../../runner/repl/micropython-repl.ts';
import { SimLab } from '../../sim/sim-lab.ts';

let lab: SimLab;
const links: SerialLink[] = [];

beforeAll(async () => {
  lab = await SimLab.start({
    boards: [{ id: 'e1', chip: 'esp32', portPath: '1-1.1', flashSizeBytes: 4 * 2 ** 20, psramBytes: 0, usb: 'uart-bridge', mac: '24:0a:c4:00:00:0a' }],
    stateDir: undefined, stockFirmwareVersion: 'v1.24.1', speedFactor: 0,
  });
});
afterAll(async () => {
  for (const link of links) await link.close();
  await lab?.close();
});

async function replOnBoard(): Promise<MicroPythonRepl> {
  const link = await openRfc2217Link(lab.boards[0]!.url);
  links.push(link);
  return new MicroPythonRepl(link, { boardId: 'e1' });
}

describe('asking the running MicroPython whether the flash already holds the image', () => {
  const options = { replTimeoutMs: 3000, digestTimeoutMs: 20_000 };

  it('answers yes only when every region matches byte for byte', async () => {
    const flash = lab.boards[0]!.board.flash;
    const parts = [
      { name: 'bootloader', offset: 0x1000, data: flash.read(0x1000, 0x5000) },
      { name: 'app', offset: 0x10000, data: flash.read(0x10000, 300_000) },
    ];
    const repl = await replOnBoard();
    expect(await partsMatchRunningFirmware(repl, parts, options)).toBe(true);
    const changed = parts[1]!.data.slice();
    changed[123_456] = (changed[123_456] ?? 0) ^ 0x40;
    expect(await partsMatchRunningFirmware(repl, [parts[0]!, { ...parts[1]!, data: changed }], options)).toBe(false);
    await links.pop()?.close();
  });

  it('answers no for a board that does not run MicroPython', async () => {
    const board = lab.boards[0]!.board;
    // Damage the app so the board boot-loops; the bytes asked about then do match, but nobody can say so.
    board.flash.write(0x10000, new Uint8Array(16));
    board.hardReset();
    const repl = await replOnBoard();
    expect(await partsMatchRunningFirmware(repl, [{ name: 'app', offset: 0x10000, data: new Uint8Array(16) }], options)).toBe(false);
  });
});
