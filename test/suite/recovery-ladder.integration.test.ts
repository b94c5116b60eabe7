/**
 * The recovery ladder against boards of the virtual lab (real MicroPython interpreter) that sit in the
 * ROM's download mode after `machine.bootloader()`, so the REPL is gone: a bridge ESP32 comes back at
 * the hard-reset rung (EN pulse through DTR/RTS, GPIO0 released); a native-USB S3, which has no such
 * rung under MicroPython, only at the last one — a hub port power cycle through the simulated hub.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BoardEndpoint } from '../../runner/bench/board-endpoint.ts';
import { DiscoveryBenchUsb } from '../../runner/bench/discovery-bench-usb.ts';
import { createBoardLinkReopener } from '../../runner/bench/board-link-reopener.ts';
import { openRfc2217Link } from '../../runner/link/rfc2217-link.ts';
import { silentLogger } from '../../runner/logger.ts';
import { systemClock } from '../../runner/repl/clock.ts';
import { BoardConnection } from '../../runner/suite/board-connection.ts';
import { recoverBoard } from '../../runner/suite/recovery-ladder.ts';
import { SimLab, type SimLabBoardSpec } from '../../sim/sim-lab.ts';

const specs: SimLabBoardSpec[] = [
  { id: 'e1', chip: 'esp32', portPath: '1-1.1', flashSizeBytes: 4 * 2 ** 20, psramBytes: 0, usb: 'uart-bridge', mac: '24:0a:c4:00:00:41' },
  { id: 's1', chip: 'esp32s3', portPath: '1-1.2', flashSizeBytes: 8 * 2 ** 20, psramBytes: 0, usb: 'native', mac: '7c:df:a1:00:00:42' },
];

describe('recovery ladder on the virtual lab', () => {
  let lab: SimLab;
  let usb: DiscoveryBenchUsb;
  beforeAll(async () => {
    lab = await SimLab.start({ boards: specs, stateDir: undefined, stockFirmwareVersion: 'v1.24.1', speedFactor: 1 });
    usb = new DiscoveryBenchUsb(lab.discovery);
  }, 60_000);
  afterAll(async () => {
    await usb?.close();
    await lab?.close();
  });

  for (const [index, expected] of [[0, 'hard-reset'], [1, 'power-cycle']] as const) {
    it(`${specs[index]!.id} (${specs[index]!.usb}) stuck in download mode comes back by ${expected}`, async () => {
      const spec = specs[index]!;
      const simBoard = lab.boards[index]!;
      const endpoint: BoardEndpoint = { boardId: spec.id, portPath: spec.portPath, chip: spec.chip, usb: spec.usb === 'native' ? 'native' : 'uart-bridge', linkUrl: simBoard.url, expectedMac: spec.mac,
        ...(spec.usb === 'native' ? { runtimeUsbId: '303a:4001' } : {}) };
      const reopen = createBoardLinkReopener({ usb, openLink: openRfc2217Link, clock: systemClock, logger: silentLogger() });
      const board = await BoardConnection.connect(endpoint, openRfc2217Link, silentLogger(), { reopen });
      try {
        await board.repl.execNoFollow('import machine\nmachine.bootloader()');
        const deadline = Date.now() + 5000;
        while (simBoard.board.state !== 'rom-download' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        expect(simBoard.board.state).toBe('rom-download');

        const rung = await recoverBoard(board, { usb, clock: systemClock, logger: silentLogger(), powerOffMs: 300, reconnectTimeoutMs: 1000 });
        expect(rung).toBe(expected);
        expect(simBoard.board.state).toBe('app-running');
        const { stdout } = await board.repl.exec('print(6 * 7)', { timeoutMs: 5000 });
        expect(stdout.trim()).toBe('42');
      } finally {
        await board.close();
      }
    }, 90_000);
  }
});
