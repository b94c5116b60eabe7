/**
 * Flashing benchmark (issue 3, "Done when"): esptool-js over RFC 2217 against one simulated ESP32 with
 * modelled wire time (SimLab speedFactor 1), a 1.5 MB simulated MicroPython image, at 460800 and 921600
 * baud. Run: `npx tsx test/perf/flash.bench.ts`. Prints figures and ratios; asserts nothing about time.
 *
 * Per baud rate:
 * - full flash (every sector of every region made different first, by writing the image XOR 0xA5 straight
 *   into the board's flash store) as a ratio to the wire limit = compressed bytes × 10 / baud, where
 *   compressed bytes = zlib deflate level 9 of each word-padded region (what the flasher sends);
 *   target ≥ 0.95. Printed twice: for the write phase (first FLASH_DEFL_BEGIN to the last run's MD5
 *   check — the span esptool reports as "Wrote … in N seconds", whose ~0.88 on real boards the target
 *   is set against) and end to end (reset into the ROM, sync, stub, compare, write, verify, hard reset);
 * - identical re-flash as a ratio to the full flash; target ≤ 0.03;
 * - one changed 4 KiB app sector as a ratio to the full flash; target ≤ 0.05.
 * Only the `flash()` call is timed (connect + compare + write + verify + reset, and the port teardown);
 * the phase split comes from onProgress timestamps.
 *
 * Uplink. The lab paces host → board bytes at the wire rate as well (sim/board/sim-uart.ts), so the
 * write phase carries the real wire time of the compressed image. The board's port is served through
 * {@link CountingPort}, which counts the bytes that cross in each direction.
 *
 * Failed attempts are retried (up to {@link ATTEMPTS}), printed and counted, never timed (none are
 * expected; a connect that trips would show here rather than skew a figure).
 */
import { deflateSync } from 'node:zlib';
import type { BoardEndpoint } from '../../runner/bench/board-endpoint.ts';
import { FirmwarePreparation } from '../../runner/flash/firmware-preparation.ts';
import { openLink } from '../../runner/link/open-link.ts';
import { EsptoolFlasher } from '../../runner/flash/esptool-flasher.ts';
import type { FlashPart, FlashPhase, FlashProgressEvent, FlashResult } from '../../runner/flash/flasher.ts';
import { planImageBytes } from '../../runner/flash/image-plan.ts';
import { SECTOR_BYTES, padToWord } from '../../runner/flash/sector-diff.ts';
import { openRfc2217Link } from '../../runner/link/rfc2217-link.ts';
import { silentLogger } from '../../runner/logger.ts';
import type { SimBoard } from '../../sim/board/sim-board.ts';
import type { SimSerialPort } from '../../sim/board/sim-serial-port.ts';
import { buildFirmware } from '../../sim/firmware/image-builder.ts';
import { Rfc2217Server } from '../../sim/rfc2217/rfc2217-server.ts';
import { SimLab, type SimLabBoardSpec } from '../../sim/sim-lab.ts';
import { fakeHostFactory } from '../sim/board/fake-micropython-host.ts';

const BAUD_RATES = [460800, 921600] as const;
const FLASH_BYTES = 4 * 2 ** 20;
const TARGET_FULL = 0.95;
const TARGET_IDENTICAL = 0.03;
const TARGET_ONE_SECTOR = 0.05;
/** A {@link SimSerialPort} in front of a board's port that counts the bytes crossing in each direction. */
class CountingPort implements SimSerialPort {
  readonly #inner: SimSerialPort;
  uplinkBytes = 0;
  downlinkBytes = 0;

  constructor(inner: SimSerialPort) {
    this.#inner = inner;
    inner.onTransmit((chunk) => {
      this.downlinkBytes += chunk.length;
    });
  }

  get boardId(): string {
    return this.#inner.boardId;
  }
  get baudRate(): number {
    return this.#inner.baudRate;
  }
  receiveFromHost(data: Uint8Array): void {
    this.uplinkBytes += data.length;
    this.#inner.receiveFromHost(data);
  }
  onTransmit(listener: (chunk: Uint8Array) => void): () => void {
    return this.#inner.onTransmit(listener);
  }
  setBaudRate(baudRate: number): void {
    this.#inner.setBaudRate(baudRate);
  }
  setModemLines(lines: { dtr: boolean; rts: boolean }): void {
    this.#inner.setModemLines(lines);
  }
  purgeTransmit(): void {
    this.#inner.purgeTransmit();
  }
  setHostAttached(attached: boolean): void {
    this.#inner.setHostAttached(attached);
  }
}

interface TimedFlash {
  result: FlashResult;
  totalMs: number;
  phaseMs: Map<string, number>;
  uplinkBytes: number;
  downlinkBytes: number;
}

/** Attempts per timed flash; connect fails intermittently with paced output (see the report printed). */
const ATTEMPTS = 4;
let failedAttempts = 0;

/**
 * Runs {@link timedFlashOnce} up to {@link ATTEMPTS} times; every failed attempt is printed (not hidden)
 * and counted, so a bench run still reports figures when a connect trips.
 */
async function timedFlash(flasher: EsptoolFlasher, board: BoardEndpoint, url: string, port: CountingPort, parts: FlashPart[], baudRate: number): Promise<TimedFlash> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await timedFlashOnce(flasher, board, url, port, parts, baudRate);
    } catch (err: unknown) {
      failedAttempts++;
      console.log(`  ATTEMPT ${attempt} FAILED: ${err instanceof Error ? err.message : String(err)}`);
      if (attempt >= ATTEMPTS) throw err;
    }
  }
}

/** Runs one timed flash; phase time runs from a phase's first event to the next phase's first event. */
async function timedFlashOnce(flasher: EsptoolFlasher, board: BoardEndpoint, url: string, port: CountingPort, parts: FlashPart[], baudRate: number): Promise<TimedFlash> {
  const link = await openRfc2217Link(url);
  try {
    const marks: { phase: FlashPhase | 'teardown'; atMs: number }[] = [];
    const onProgress = (e: FlashProgressEvent): void => {
      if (marks[marks.length - 1]?.phase !== e.phase) marks.push({ phase: e.phase, atMs: performance.now() });
    };
    const up0 = port.uplinkBytes;
    const down0 = port.downlinkBytes;
    const t0 = performance.now();
    const result = await flasher.flash({ board, link, parts, baudRate }, { onProgress });
    const t1 = performance.now();
    // Events after the last one (the reset's end) to the return are the port teardown.
    marks.push({ phase: 'teardown', atMs: t1 });
    const phaseMs = new Map<string, number>();
    let previous = t0;
    let previousPhase = 'before first event';
    for (const mark of marks) {
      phaseMs.set(previousPhase, (phaseMs.get(previousPhase) ?? 0) + mark.atMs - previous);
      previous = mark.atMs;
      previousPhase = mark.phase;
    }
    return { result, totalMs: t1 - t0, phaseMs, uplinkBytes: port.uplinkBytes - up0, downlinkBytes: port.downlinkBytes - down0 };
  } finally {
    await link.close();
  }
}

function phaseSplit(t: TimedFlash): string {
  return [...t.phaseMs].filter(([, ms]) => ms >= 0.5).map(([phase, ms]) => `${phase} ${(ms / 1000).toFixed(2)} s`).join(', ');
}

function outcomes(r: FlashResult): string {
  return r.regions.map((x) => `${x.name}=${x.outcome}${x.outcome === 'skipped' ? '' : `(${x.writtenBytes} B)`}`).join(' ');
}

/** Makes every sector of every part differ on the board (each byte XOR 0xA5) and checks that it does. */
function scramble(board: SimBoard, parts: readonly FlashPart[]): void {
  for (const part of parts) {
    const data = padToWord(part.data);
    board.flash.write(part.offset, data.map((b) => b ^ 0xa5));
    for (let s = 0; s < data.length; s += SECTOR_BYTES) {
      const n = Math.min(SECTOR_BYTES, data.length - s);
      if (Buffer.compare(Buffer.from(board.flash.read(part.offset + s, n)), Buffer.from(data.subarray(s, s + n))) === 0) {
        throw new Error(`sector at 0x${(part.offset + s).toString(16)} still matches`);
      }
    }
  }
}

function ratioLine(label: string, ratio: number, target: number, atLeast: boolean): string {
  const met = atLeast ? ratio >= target : ratio <= target;
  const by = atLeast ? `${((target - ratio) * 100).toFixed(1)} points short` : `${(ratio / target).toFixed(1)}× the target`;
  return `  ${label}: ${ratio.toFixed(3)} (target ${atLeast ? '≥' : '≤'} ${target}) ${met ? 'MET' : `MISSED, ${by}`}`;
}

const spec: SimLabBoardSpec = { id: 'b1', chip: 'esp32', portPath: '1-1.1', flashSizeBytes: FLASH_BYTES, psramBytes: 0, usb: 'uart-bridge', mac: '24:0a:c4:00:00:31' };
const lab = await SimLab.start({ boards: [spec], stateDir: undefined, stockFirmwareVersion: 'v1.24.1', speedFactor: 1, createHost: fakeHostFactory().create });
const servers: Rfc2217Server[] = [];

try {
  const simBoard = lab.boards[0]!.board;
  const endpoint: BoardEndpoint = { boardId: spec.id, portPath: spec.portPath, chip: spec.chip, usb: spec.usb, linkUrl: lab.boards[0]!.url, expectedMac: spec.mac };
  const image = buildFirmware({ chip: 'esp32', version: 'v1.25.0', flashSizeBytes: FLASH_BYTES, seed: 4242 });
  const plan = planImageBytes(image.merged(), 'bench-v1.25.0.bin', { chip: 'esp32', flashSizeBytes: FLASH_BYTES, boardId: spec.id });
  const app = plan.parts.find((p) => p.name === 'app')!;
  const compressedBytes = plan.parts.reduce((sum, p) => sum + deflateSync(padToWord(p.data), { level: 9 }).length, 0);
  const rawBytes = plan.parts.reduce((sum, p) => sum + padToWord(p.data).length, 0);
  // One changed sector in the middle of the app (the app no longer boots; the boot is not timed).
  const changedSector = Math.floor(app.data.length / 2 / SECTOR_BYTES) * SECTOR_BYTES;
  const oneSectorApp = app.data.slice();
  for (let i = changedSector; i < changedSector + SECTOR_BYTES; i++) oneSectorApp[i] = oneSectorApp[i]! ^ 0xff;
  const oneSectorParts = plan.parts.map((p) => (p === app ? { ...p, data: oneSectorApp } : p));

  console.log(`image: ${plan.parts.map((p) => `${p.name} @0x${p.offset.toString(16)} ${p.data.length} B`).join(', ')}`);
  console.log(`compressed (zlib deflate level 9 per region): ${compressedBytes} B of ${rawBytes} B (${((compressedBytes / rawBytes) * 100).toFixed(1)}%)`);
  const flasher = new EsptoolFlasher({ logger: silentLogger() });

  {
    const port = new CountingPort(simBoard.serialPort);
    const server = await Rfc2217Server.listen(port);
    servers.push(server);
    for (const baudRate of BAUD_RATES) {
      const wireLimitMs = ((compressedBytes * 10) / baudRate) * 1000;
      console.log(`\n== baud=${baudRate}: wire limit ${(wireLimitMs / 1000).toFixed(2)} s`);
      scramble(simBoard, plan.parts);
      const full = await timedFlash(flasher, endpoint, server.url, port, plan.parts, baudRate);
      if (full.result.baudRate !== baudRate) console.log(`  WARNING: flashed at ${full.result.baudRate} baud, asked for ${baudRate}`);
      const same = await timedFlash(flasher, endpoint, server.url, port, plan.parts, baudRate);
      const one = await timedFlash(flasher, endpoint, server.url, port, oneSectorParts, baudRate);
      for (const [name, t] of [['full', full], ['identical', same], ['one sector', one]] as const) {
        console.log(`  ${name}: ${(t.totalMs / 1000).toFixed(2)} s [${outcomes(t.result)}] uplink ${t.uplinkBytes} B, downlink ${t.downlinkBytes} B`);
        console.log(`    phases: ${phaseSplit(t)}`);
      }
      const written = full.phaseMs.get('write') ?? 0;
      console.log(ratioLine('full flash, write phase (wire limit ÷ write time)', wireLimitMs / written, TARGET_FULL, true));
      console.log(ratioLine('full flash, end to end (wire limit ÷ total time)', wireLimitMs / full.totalMs, TARGET_FULL, true));
      console.log(ratioLine('identical / full', same.totalMs / full.totalMs, TARGET_IDENTICAL, false));
      console.log(ratioLine('one sector / full', one.totalMs / full.totalMs, TARGET_ONE_SECTOR, false));
      console.log(`  uplink bytes of the full flash (SLIP framing and escapes included) × 10 / baud = ${((full.uplinkBytes * 10) / baudRate).toFixed(2)} s`);
    }
  }
  console.log(`\nfailed flash attempts (retried, not timed): ${failedAttempts}`);
} finally {
  await Promise.allSettled(servers.map((s) => s.close()));
  await lab.close();
}

// The user-visible path (`hil flash`, `hil run --firmware`): the running MicroPython is asked for each
// region's SHA-256 first, and an identical image needs no ROM session at all. Real interpreter, 921600.
{
  const realSpec: SimLabBoardSpec = { ...spec, id: 'b2', mac: '24:0a:c4:00:00:32' };
  const realLab = await SimLab.start({ boards: [realSpec], stateDir: undefined, stockFirmwareVersion: 'v1.24.1', speedFactor: 1 });
  try {
    const image = buildFirmware({ chip: 'esp32', version: 'v1.25.0', flashSizeBytes: FLASH_BYTES, seed: 4242 });
    const plan = planImageBytes(image.merged(), 'bench-v1.25.0.bin', { chip: 'esp32', flashSizeBytes: FLASH_BYTES, boardId: realSpec.id });
    const endpoint: BoardEndpoint = { boardId: realSpec.id, portPath: realSpec.portPath, chip: realSpec.chip, usb: realSpec.usb, linkUrl: realLab.boards[0]!.url, expectedMac: realSpec.mac };
    const preparation = new FirmwarePreparation({ plan, createFlasher: (logger) => new EsptoolFlasher({ logger }) });
    const context = { openLink, logger: silentLogger(), progress: () => undefined };
    const timed = async (): Promise<number> => {
      const startedAt = performance.now();
      await preparation.prepare(endpoint, context);
      return performance.now() - startedAt;
    };
    const fullMs = await timed();
    const identicalMs = await timed();
    console.log('\n== hil flash path (flash + boot confirmed; running firmware checked first), 921600 baud, real interpreter');
    console.log(`  full: ${(fullMs / 1000).toFixed(2)} s   identical: ${(identicalMs / 1000).toFixed(2)} s`);
    console.log(ratioLine('identical / full', identicalMs / fullMs, TARGET_IDENTICAL, false));
  } finally {
    await realLab.close();
  }
}
