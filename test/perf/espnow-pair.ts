/**
 * Two simulated boards (an ESP32 and an ESP32-S3, real MicroPython interpreters) with ESP-NOW active
 * and each registered as the other's peer, each driven through the real REPL client over RFC 2217 —
 * the fixture of the ESP-NOW benchmark (espnow.bench.ts). On each board the setup leaves `e` (the
 * ESPNow object), `P` (the other board's MAC) and the `time` module in the REPL's globals.
 */
import { openRfc2217Link, type Rfc2217Link } from '../../runner/link/rfc2217-link.ts';
import { MicroPythonRepl } from '../../runner/repl/micropython-repl.ts';
import { SimLab, type SimLabBoardSpec } from '../../sim/sim-lab.ts';
import { drainProgram, pairProgram, setupProgram } from './espnow-programs.ts';

/** One board of the pair as the benchmark uses it. */
export interface EspNowBoard {
  /** Lab board id, as `lab.radio` knows it. */
  id: string;
  repl: MicroPythonRepl;
}

/** A running pair; {@link close} stops the links and the lab. */
export interface EspNowPair {
  lab: SimLab;
  /** The ESP32. */
  a: EspNowBoard;
  /** The ESP32-S3. */
  b: EspNowBoard;
  close(): Promise<void>;
}

const BOARDS: readonly SimLabBoardSpec[] = [
  { id: 'esp32-a', chip: 'esp32', portPath: '1-1.1', flashSizeBytes: 4 * 2 ** 20, psramBytes: 0, usb: 'uart-bridge', mac: '24:0a:c4:00:00:51' },
  { id: 'esp32s3-b', chip: 'esp32s3', portPath: '1-1.2', flashSizeBytes: 8 * 2 ** 20, psramBytes: 0, usb: 'native', mac: '24:0a:c4:00:00:52' },
];

/** Generous deadline for setup steps (a cold interpreter start on a busy machine). */
const SETUP_TIMEOUT_MS = 30_000;

/**
 * Starts a lab of two boards at `speedFactor` (0: unpaced serial and the radio's 'instant' time model;
 * 1: modelled wire time and the 'air-time' model), opens both REPLs and sets ESP-NOW up with a receive
 * buffer of `rxbufBytes` on each board.
 */
export async function startEspNowPair(options: { speedFactor: number; rxbufBytes: number }): Promise<EspNowPair> {
  const lab = await SimLab.start({ boards: BOARDS, stateDir: undefined, stockFirmwareVersion: 'v1.24.1', speedFactor: options.speedFactor });
  const links: Rfc2217Link[] = [];
  const close = async (): Promise<void> => {
    await Promise.allSettled(links.map((link) => link.close()));
    await lab.close();
  };
  try {
    const boards: EspNowBoard[] = [];
    const macs: string[] = [];
    for (const { spec, url } of lab.boards) {
      const link = await openRfc2217Link(url);
      links.push(link);
      const repl = new MicroPythonRepl(link, { boardId: spec.id, defaultTimeoutMs: SETUP_TIMEOUT_MS });
      await repl.enterRawRepl();
      macs.push((await repl.execOrThrow(setupProgram(options.rxbufBytes))).stdout.trim());
      boards.push({ id: spec.id, repl });
    }
    const [a, b] = boards as [EspNowBoard, EspNowBoard];
    await a.repl.execOrThrow(pairProgram(macs[1]!));
    await b.repl.execOrThrow(pairProgram(macs[0]!));
    return { lab, a, b, close };
  } catch (err: unknown) {
    await close();
    throw err;
  }
}

/** Empties both boards' receive buffers, so that a phase starts from nothing queued. */
export async function drainBoth(pair: EspNowPair): Promise<void> {
  await Promise.all([pair.a.repl.execOrThrow(drainProgram()), pair.b.repl.execOrThrow(drainProgram())]);
}
