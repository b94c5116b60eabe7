/**
 * Enumeration benchmark (issue 4): the `usb-power-cycle` step of suites/enumeration on the default
 * virtual bench (6 boards, real MicroPython interpreters, modelled timing at speed factor 1), run
 * ROUNDS times. Run: `npx tsx test/perf/enumeration.bench.ts`. Prints figures and ratios; asserts nothing.
 *
 * The modelled part of one power cycle is everything the lab itself makes take time: the port staying
 * off (`offMs`), then — from power-on to each board's final attach, on the lab's own clock — power
 * good, the chip's boot, USB enumeration delays (twice on native-USB S3 boards: USB-Serial-JTAG while
 * the ROM boots, then TinyUSB CDC), and the settle time the step waits for. The ratio of the step's
 * wall time to that modelled floor is the rig's overhead: hub control transfers, hot-plug delivery,
 * the watch's wake-ups. Per board, the enumeration time the rig recorded is compared with the lab's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_BENCH_FILE, loadBench } from '../../hil-config/load-bench.ts';
import type { BenchUsb } from '../../runner/bench/bench-usb.ts';
import { DiscoveryBenchUsb } from '../../runner/bench/discovery-bench-usb.ts';
import type { UsbHotplugEvent } from '../../runner/bench/usb-discovery.ts';
import { endpointFor, startVirtualLab } from '../../runner/cli/compose.ts';
import { openLink } from '../../runner/link/open-link.ts';
import { silentLogger } from '../../runner/logger.ts';
import { systemClock } from '../../runner/repl/clock.ts';
import { BenchStepRunner } from '../../runner/suite/bench-step-runner.ts';
import type { BenchStep } from '../../runner/suite/suite-manifest.ts';

const ROUNDS = Number(process.env['HIL_BENCH_ENUM_ROUNDS'] ?? 5);
const STEP = { offMs: 1000, deadlineMs: 20_000, settleMs: 300 };

const stateHome = mkdtempSync(join(tmpdir(), 'hil-bench-enum-'));
const bench = loadBench(DEFAULT_BENCH_FILE, { stateHome });
const lab = await startVirtualLab(bench, { logger: silentLogger() });
try {
  const endpoints = bench.boards.map((board) => endpointFor(board, lab.boards.find((b) => b.spec.id === board.id)!.url));
  const inner = new DiscoveryBenchUsb(lab.discovery);
  // Marks power-on on the lab's clock (performance.now, as the hub's event times).
  let poweredOnAt = 0;
  const usb: BenchUsb = {
    discovery: inner.discovery,
    close: () => inner.close(),
    portPower: async (portPath) => {
      const power = await inner.portPower(portPath);
      return { ...power, setPower: async (on) => { if (on && poweredOnAt === 0) poweredOnAt = performance.now(); await power.setPower(on); } };
    },
  };
  const finalAttachAt = new Map<string, number>();
  lab.discovery.onHotplug((event: UsbHotplugEvent) => { if (event.type === 'attach') finalAttachAt.set(event.device.portPath, event.atMs); });
  const runner = new BenchStepRunner({ usb, openLink, logger: silentLogger(), clock: systemClock });
  const step: BenchStep = { 'usb-power-cycle': STEP };
  const ratios: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    poweredOnAt = 0;
    finalAttachAt.clear();
    const startedAt = performance.now();
    const result = await runner.run([step], endpoints);
    const wallMs = performance.now() - startedAt;
    if (result.failure || result.skipped) throw new Error(`round ${round}: ${result.failure?.message ?? result.skipped}`);
    const modelledPerBoard = endpoints.map((e) => ({ id: e.boardId, ms: (finalAttachAt.get(e.portPath) ?? NaN) - poweredOnAt, recorded: Number(result.properties[`${e.boardId}.enumerationMs`]) }));
    const slowest = Math.max(...modelledPerBoard.map((b) => b.ms));
    const floorMs = STEP.offMs + slowest + STEP.settleMs;
    ratios.push(wallMs / floorMs);
    console.log(`round ${round}: step ${(wallMs / 1000).toFixed(2)} s; modelled floor ${(floorMs / 1000).toFixed(2)} s ` +
      `(off ${STEP.offMs} ms + slowest board to final attach ${slowest.toFixed(0)} ms + settle ${STEP.settleMs} ms); ratio ${(wallMs / floorMs).toFixed(3)}`);
    console.log(`  per board, modelled → recorded enumeration ms: ${modelledPerBoard.map((b) => `${b.id} ${b.ms.toFixed(0)}→${b.recorded}`).join(', ')}`);
  }
  ratios.sort((a, b) => a - b);
  console.log(`\nenumeration power cycle of ${endpoints.length} boards: median overhead ratio ${ratios[Math.floor(ratios.length / 2)]!.toFixed(3)} ` +
    `(step wall time ÷ modelled floor), range ${ratios[0]!.toFixed(3)}–${ratios.at(-1)!.toFixed(3)} over ${ROUNDS} rounds`);
  await inner.close();
} finally {
  await lab.close();
  rmSync(stateHome, { recursive: true, force: true });
}
