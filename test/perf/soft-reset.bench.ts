/**
 * Soft-reset reconnection benchmark (issue 6): ROUNDS soft resets (Ctrl-D in the raw REPL) of a
 * native-USB ESP32-S3 of the virtual lab (real MicroPython interpreter, modelled USB timing at speed
 * factor 1) whose boot.py configures a runtime USB interface (a vendor interface beside the built-in
 * CDC), so every soft reset takes the device — and its REPL port — off the bus (reference
 * micropython-host-protocols.md §2.4) and the rig must find the board again by port path.
 * Run: `npx tsx test/perf/soft-reset.bench.ts`. Prints figures and ratios; asserts nothing.
 *
 * - first-try reconnections: rounds whose reopen needed exactly one open of the serial port;
 * - reconnection ratio: the rig's reconnection time (from its link dropping to the board answering at
 *   the raw prompt again) ÷ the modelled re-enumeration delay, the time the lab kept the device off the
 *   bus (from the hub's detach to its attach of the new enumeration: the firmware's ≥ 50 ms disconnect,
 *   the soft reboot and boot.py, the host's enumeration delay). 1.0 = the rig adds nothing.
 */
import type { UsbHotplugEvent } from '../../runner/bench/usb-discovery.ts';
import { createBoardLinkReopener } from '../../runner/bench/board-link-reopener.ts';
import { DiscoveryBenchUsb } from '../../runner/bench/discovery-bench-usb.ts';
import { openLink } from '../../runner/link/open-link.ts';
import { silentLogger } from '../../runner/logger.ts';
import { systemClock } from '../../runner/repl/clock.ts';
import { BoardConnection } from '../../runner/suite/board-connection.ts';
import { SimLab } from '../../sim/sim-lab.ts';
import { labHubTimings } from '../../sim/usb/lab-hubs.ts';
import { readFileSync } from 'node:fs';

const ROUNDS = Number(process.env['HIL_BENCH_SOFT_RESET_ROUNDS'] ?? 100);
const PORT_PATH = '1-1.1';

const lab = await SimLab.start({
  boards: [{ id: 's3', chip: 'esp32s3', portPath: PORT_PATH, flashSizeBytes: 8 * 2 ** 20, psramBytes: 0, usb: 'native', mac: '7c:df:a1:00:00:61' }],
  stateDir: undefined, stockFirmwareVersion: 'v1.24.1', speedFactor: 1,
});
const usb = new DiscoveryBenchUsb(lab.discovery);
try {
  const endpoint = { boardId: 's3', portPath: PORT_PATH, chip: 'esp32s3' as const, usb: 'native' as const, linkUrl: lab.boards[0]!.url, expectedMac: undefined, runtimeUsbId: '303a:4001' };
  const reopen = createBoardLinkReopener({ usb, openLink, clock: systemClock, logger: silentLogger() });
  const board = await BoardConnection.connect(endpoint, openLink, silentLogger(), { reopen });
  // The soft-reset suite's boot.py: a runtime vendor interface brought up at every boot.
  for (const script of ['device_source.py', 'install_boot_device.py']) {
    const installed = await board.repl.exec(readFileSync(new URL(`../../suites/soft-reset/${script}`, import.meta.url), 'utf8'), { timeoutMs: 10_000 });
    if (installed.stderr !== '') throw new Error(`${script} failed: ${installed.stderr}`);
  }
  await board.softReset({ timeoutMs: 10_000 }); // the first reset brings the runtime device up

  let detachedAt = NaN;
  let offBusMs = NaN;
  lab.discovery.onHotplug((event: UsbHotplugEvent) => {
    if (event.type === 'detach' && event.portPath === PORT_PATH) detachedAt = event.atMs;
    if (event.type === 'attach' && event.device.portPath === PORT_PATH) offBusMs = event.atMs - detachedAt;
  });
  const rows: { reconnectMs: number; offBusMs: number; attempts: number }[] = [];
  let notReconnected = 0;
  const startedAt = performance.now();
  for (let round = 1; round <= ROUNDS; round++) {
    detachedAt = NaN;
    offBusMs = NaN;
    const outcome = await board.softReset({ timeoutMs: 10_000 });
    if (outcome.reconnection === undefined) {
      notReconnected++;
      continue;
    }
    rows.push({ reconnectMs: outcome.reconnection.reconnectMs, offBusMs, attempts: outcome.reconnection.attempts });
  }
  const wallMs = performance.now() - startedAt;
  const restore = await board.repl.exec(readFileSync(new URL('../../suites/soft-reset/restore_boot.py', import.meta.url), 'utf8'), { timeoutMs: 10_000 });
  if (restore.stderr !== '') throw new Error(`restoring boot.py failed: ${restore.stderr}`);
  await board.close();

  const median = (values: number[]): number => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? NaN;
  };
  const ratios = rows.map((r) => r.reconnectMs / r.offBusMs);
  const firstTry = rows.filter((r) => r.attempts === 1).length;
  const { enumerationDelayMs } = labHubTimings(1);
  console.log(`soft resets with a runtime USB interface active: ${ROUNDS} in ${(wallMs / 1000).toFixed(1)} s`);
  console.log(`  reconnected: ${rows.length}/${ROUNDS} (stayed connected: ${notReconnected}); first-try reconnections: ${firstTry}/${ROUNDS}`);
  console.log(`  device off the bus (modelled re-enumeration): median ${median(rows.map((r) => r.offBusMs)).toFixed(1)} ms ` +
    `(hub enumeration delay ${enumerationDelayMs} ms of it)`);
  console.log(`  rig reconnection (link gone → raw prompt): median ${median(rows.map((r) => r.reconnectMs)).toFixed(1)} ms`);
  console.log(`  ratio reconnection ÷ modelled re-enumeration: median ${median(ratios).toFixed(3)}, max ${Math.max(...ratios).toFixed(3)} (target ≤ 1.1)`);
} finally {
  await usb.close();
  await lab.close();
}
