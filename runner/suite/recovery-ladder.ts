/**
 * Getting a board back to a raw REPL after something went wrong, cheapest step first:
 * interrupt (Ctrl-C) → soft reset (Ctrl-D) → hard reset (EN pulse through DTR/RTS on bridge boards)
 * → hub port power cycle. Each rung is tried only when the one before did not bring the REPL back.
 * Power cycling needs the bench's USB view and a hub that switches ports one by one.
 *
 * A board whose serial port vanished (a native-USB board re-enumerating, or one whose runtime USB
 * device dropped the built-in CDC — then its REPL port is gone until a reset) is first looked for
 * again by its port path; where it stays gone, the early rungs fail and the power cycle is what brings
 * it back, after which it is found again by port path.
 */
import type { BenchUsb } from '../bench/bench-usb.ts';
import type { BoardEndpoint } from '../bench/board-endpoint.ts';
import type { ReopenTarget } from '../bench/board-link-reopener.ts';
import { HilError, isHilError } from '../errors.ts';
import type { SerialLink } from '../link/serial-link.ts';
import type { Logger } from '../logger.ts';
import type { MicroPythonRepl } from '../repl/micropython-repl.ts';
import { sleep, type Clock } from '../repl/clock.ts';

export type RecoveryRung = 'interrupt' | 'soft-reset' | 'hard-reset' | 'power-cycle';

/** A board as the ladder needs it: `link` and `repl` are re-read after every `reconnect` (BoardConnection). */
export interface RecoveryTarget {
  readonly endpoint: BoardEndpoint;
  readonly link: SerialLink;
  readonly repl: MicroPythonRepl;
  /** Finds the board again by port path and resumes at the raw prompt. */
  reconnect(options: { deadlineMs: number; target?: ReopenTarget; signal?: AbortSignal }): Promise<unknown>;
}

export interface RecoveryOptions {
  usb: BenchUsb | undefined;
  clock: Clock;
  logger: Logger;
  /** How long the port stays off in a power cycle (default 1000 ms). */
  powerOffMs?: number;
  /** Time allowed for the board to boot back to a REPL after a reset or power cycle (default 15 s). */
  bootTimeoutMs?: number;
  /** Time allowed to find a vanished serial port again before a rung gives up on it (default 3 s). */
  reconnectTimeoutMs?: number;
  signal?: AbortSignal;
}

/** EN held low this long for a hard reset (as esptool's hard reset). */
const EN_PULSE_MS = 100;

/**
 * Climbs the ladder until the board answers in the raw REPL. Returns the rung that worked; throws the
 * last rung's error (with every rung's outcome in the evidence) when none did.
 */
export async function recoverBoard(target: RecoveryTarget, options: RecoveryOptions): Promise<RecoveryRung> {
  const { endpoint } = target;
  const bootTimeoutMs = options.bootTimeoutMs ?? 15_000;
  const reconnectTimeoutMs = options.reconnectTimeoutMs ?? 3000;
  const signal = options.signal;
  const withSignal = signal ? { signal } : {};
  const tried: string[] = [];
  /** Runs `attempt`; if the link turns out to be gone, finds the board again and runs it once more. */
  const onLiveLink = async (attempt: () => Promise<void>): Promise<void> => {
    if (target.link.isOpen) {
      try {
        await attempt();
        return;
      } catch (err: unknown) {
        if (!isHilError(err, 'LINK_GONE')) throw err;
      }
    }
    await target.reconnect({ deadlineMs: reconnectTimeoutMs, ...withSignal });
    await attempt();
  };
  const rungs: { rung: RecoveryRung; attempt: () => Promise<void> }[] = [
    { rung: 'interrupt', attempt: () => onLiveLink(async () => {
      await target.repl.interrupt({ timeoutMs: 2000 });
      await target.repl.enterRawRepl({ softReset: false, timeoutMs: 3000 });
    }) },
    { rung: 'soft-reset', attempt: async () => {
      await onLiveLink(async () => { await target.repl.enterRawRepl({ softReset: true, timeoutMs: 5000 }); }).catch(async (err: unknown) => {
        // The soft reset itself may take a runtime USB device (and the link) down: find the board again.
        if (!isHilError(err, 'LINK_GONE')) throw err;
        await target.reconnect({ deadlineMs: reconnectTimeoutMs, ...withSignal });
      });
    } },
  ];
  if (endpoint.usb === 'uart-bridge') {
    rungs.push({ rung: 'hard-reset', attempt: () => onLiveLink(async () => {
      await target.link.setSignals({ dtr: false, rts: true });
      await sleep(options.clock, EN_PULSE_MS, signal);
      await target.link.setSignals({ dtr: false, rts: false });
      await target.repl.waitForBoot({ timeoutMs: bootTimeoutMs });
      await target.repl.enterRawRepl({ softReset: false, timeoutMs: bootTimeoutMs });
    }) });
  }
  const usb = options.usb;
  if (usb !== undefined) {
    rungs.push({ rung: 'power-cycle', attempt: async () => {
      const power = await usb.portPower(endpoint.portPath);
      await power.setPower(false);
      await sleep(options.clock, options.powerOffMs ?? 1000, signal);
      await power.setPower(true);
      // Without VBUS every board leaves the bus (a bridge too): it is found again by its port path.
      await target.reconnect({ deadlineMs: bootTimeoutMs, target: 'firmware', ...withSignal });
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
