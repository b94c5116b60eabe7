/**
 * Benchmarks of the virtual lab (issue: idle lab under 5% of one core; REPL exec round trip).
 * Run: `npm run bench` (or `npx tsx test/perf/virtual-lab.bench.ts`). Prints figures and ratios measured
 * side by side in this one run; asserts nothing about wall-clock time.
 *
 * 1. Idle CPU: the default bench (6 boards) booted to the MicroPython REPL, then left alone; process CPU
 *    time (main thread + every board's worker) over the window, as a share of one core, and its ratio
 *    to the 5% budget.
 * 2. Exec round trip: `exec("pass")` through the real REPL client over RFC 2217 on loopback, against one
 *    simulated board at 115200 baud with modelled wire time; median and p95, and the ratio of the median
 *    to the wire-time floor of the bytes exchanged (bytes × 10 / baud).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_BENCH_FILE, loadBench } from '../../hil-config/load-bench.ts';
import { openRfc2217Link } from '../../runner/link/rfc2217-link.ts';
import { silentLogger } from '../../runner/logger.ts';
import { MicroPythonRepl } from '../../runner/repl/micropython-repl.ts';
import { startVirtualLab } from '../../runner/cli/compose.ts';

const IDLE_WINDOW_MS = Number(process.env['HIL_BENCH_IDLE_MS'] ?? 10_000);
const EXEC_ROUNDS = Number(process.env['HIL_BENCH_EXEC_ROUNDS'] ?? 100);
const IDLE_BUDGET = 0.05;

const stateHome = mkdtempSync(join(tmpdir(), 'hil-bench-'));
const bench = loadBench(DEFAULT_BENCH_FILE, { stateHome });
const lab = await startVirtualLab(bench, { logger: silentLogger() });
try {
  const bootDeadline = Date.now() + 30_000;
  while (lab.boards.some(({ board }) => board.state !== 'app-running') && Date.now() < bootDeadline) await sleep(50);
  await sleep(1000); // let boot-time work settle

  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  await sleep(IDLE_WINDOW_MS);
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = performance.now() - wallBefore;
  const idleShare = (cpu.user + cpu.system) / 1000 / wallMs;
  console.log(`idle virtual lab: ${lab.boards.length} boards, ${(wallMs / 1000).toFixed(1)} s window, CPU ${(idleShare * 100).toFixed(2)}% of one core`);
  console.log(`  ratio to the 5% budget: ${(idleShare / IDLE_BUDGET).toFixed(3)} (target < 1)`);

  const target = lab.boards.find(({ spec }) => spec.usb === 'uart-bridge') ?? lab.boards[0];
  if (!target) throw new Error('no board');
  const link = await openRfc2217Link(target.url);
  const repl = new MicroPythonRepl(link, { boardId: target.spec.id });
  await repl.enterRawRepl({ softReset: false });
  await repl.exec('pass');
  const times: number[] = [];
  for (let i = 0; i < EXEC_ROUNDS; i++) {
    const t0 = performance.now();
    await repl.exec('pass');
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)] ?? 0;
  const p95 = times[Math.floor(times.length * 0.95)] ?? 0;
  // raw-paste exchange for "pass": host sends \x05A\x01 + "pass" + \x04; board sends R\x01 + window + \x01, \x04, \x04\x04, '>'
  const wireBytes = 3 + 4 + 1 + 5 + 1 + 3;
  const wireFloorMs = (wireBytes * 10 / link.baudRate) * 1000;
  console.log(`exec round trip (${target.spec.id}, ${link.baudRate} baud, ${repl.rawPasteSupported ? 'raw-paste' : 'classic'}): ` +
    `median ${median.toFixed(2)} ms, p95 ${p95.toFixed(2)} ms over ${EXEC_ROUNDS} runs`);
  console.log(`  ratio of median to the wire-time floor (${wireBytes} bytes = ${wireFloorMs.toFixed(2)} ms): ${(median / wireFloorMs).toFixed(2)}`);
  await link.close();
} finally {
  await lab.close();
  rmSync(stateHome, { recursive: true, force: true });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
