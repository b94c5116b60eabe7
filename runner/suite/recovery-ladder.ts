/**
 * Getting a board back to a raw REPL after something went wrong, cheapest step first:
 * interrupt (Ctrl-C) → soft reset (Ctrl-D) → hard reset (EN pulse through DTR/RTS on bridge boards)
 * → hub port power cycle. Each rung is tried only when the one before did not bring the REPL back.
 * Power cycling needs the bench's USB view and a hub that switches ports one by one.
 */
import type { BenchUsb } from '../bench/bench-usb.ts';
import { HilError } from '../errors.ts';
import type { SerialLink } from '../link/serial-link.ts';
import type { Logger } from '../logger.ts';
import type { MicroPythonRepl } from '../repl/micropython-repl.ts';
import { sleep, type Clock } from '../repl/clock.ts';
import type { BoardEndpoint } from '../bench/board-endpoint.ts';

export type RecoveryRung = 'interrupt' | 'soft-reset' | 'hard-reset' | 'power-cycle';

export interface RecoveryTarget {
  endpoint: BoardEndpoint;
  link: SerialLink;
  repl: MicroPythonRepl;
}

export interface RecoveryOptions {
  usb: BenchUsb | undefined;
  clock: Clock;
  logger: Logger;
  /** How long the port stays off in a power cycle (default 1000 ms). */
  powerOffMs?: number;
  /** Time allowed for the board to boot back to a REPL after a reset or power cycle (default 15 s). */
  bootTimeoutMs?: number;
  signal?: AbortSignal;
}

/** EN held low this long for a hard reset (as esptool's hard reset). */
const EN_PULSE_MS = 100;

/**
 * Climbs the ladder until the board answers in the raw REPL. Returns the rung that worked; throws the
 * last rung's error (with every rung's outcome in the evidence) when none did.
 */
export async function recoverBoard(target: RecoveryTarget, options: RecoveryOptions): Promise<RecoveryRung> {
  const { repl, link, endpoint } = target;
  const bootTimeoutMs = options.bootTimeoutMs ?? 15_000;
  const signal = options.signal;
  const tried: string[] = [];
  const rungs: { rung: RecoveryRung; attempt: () => Promise<void> }[] = [
    { rung: 'interrupt', attempt: async () => {
      await repl.interrupt({ timeoutMs: 2000 });
      await repl.enterRawRepl({ softReset: false, timeoutMs: 3000 });
    } },
    { rung: 'soft-reset', attempt: async () => { await repl.enterRawRepl({ softReset: true, timeoutMs: 5000 }); } },
  ];
  if (endpoint.usb === 'uart-bridge') {
    rungs.push({ rung: 'hard-reset', attempt: async () => {
      await link.setSignals({ dtr: false, rts: true });
      await sleep(options.clock, EN_PULSE_MS, signal);
      await link.setSignals({ dtr: false, rts: false });
      await repl.waitForBoot({ timeoutMs: bootTimeoutMs });
      await repl.enterRawRepl({ softReset: false, timeoutMs: bootTimeoutMs });
    } });
  }
  const usb = options.usb;
  if (usb !== undefined) {
    rungs.push({ rung: 'power-cycle', attempt: async () => {
      const power = await usb.portPower(endpoint.portPath);
      await power.setPower(false);
      await sleep(options.clock, options.powerOffMs ?? 1000, signal);
      await power.setPower(true);
      await repl.waitForBoot({ timeoutMs: bootTimeoutMs });
      await repl.enterRawRepl({ softReset: false, timeoutMs: bootTimeoutMs });
    } });
  }
  let lastError: unknown;
  for (const { rung, attempt } of rungs) {
    signal?.throwIfAborted();
    try {
      await attempt();
      options.logger.info({ board: endpoint.boardId, rung, tried }, 'board recovered');
      return rung;
    } catch (err: unknown) {
      lastError = err;
      tried.push(`${rung}: ${err instanceof Error ? err.message : String(err)}`);
      options.logger.debug({ board: endpoint.boardId, rung, err }, 'recovery rung did not bring the REPL back');
    }
  }
  throw new HilError('TIMEOUT', `${endpoint.boardId} at ${endpoint.portPath} did not come back to the REPL (tried ${rungs.map((r) => r.rung).join(' → ')})`,
    { boardId: endpoint.boardId, portPath: endpoint.portPath, phase: 'recovery', rungs: tried }, { cause: lastError });
}
