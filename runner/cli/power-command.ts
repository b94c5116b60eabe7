/**
 * `hil power on|off|cycle TARGET`: switches the hub port power of one bench board (by board id or port
 * path) with the hub class requests of the USB view. The board is leased for the duration, like any
 * other use. A port with no bench board on it is refused (`PORT_EMPTY`): the rig only switches ports it
 * knows a board is on.
 */
import { resolve } from 'node:path';
import { DEFAULT_BENCH_FILE, loadBench, type Bench } from '../../hil-config/load-bench.ts';
import { HilError } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { sleep, systemClock } from '../repl/clock.ts';
import { openLeasedBench, type LeaseFlags } from './bench-leases.ts';
import type { CliIo } from './cli-io.ts';
import { stateHomeFrom } from './compose.ts';

export type PowerAction = 'on' | 'off' | 'cycle';

export interface PowerOptions extends LeaseFlags {
  bench?: string;
  offMs: number;
  logLevel: string;
}

/** The bench board named by `target` (its id or its port path). */
export function boardForTarget(bench: Bench, target: string): Bench['boards'][number] {
  const board = bench.boards.find((b) => b.id === target || b.portPath === target);
  if (board !== undefined) return board;
  if (/^\d+-\d+(\.\d+)*$/.test(target)) {
    throw new HilError('PORT_EMPTY', `no board of bench "${bench.name}" is on port ${target} ` +
      `(boards: ${bench.boards.map((b) => `${b.id} at ${b.portPath}`).join(', ')}); the rig only switches ports with a known board`, { portPath: target });
  }
  throw new HilError('USAGE', `"${target}" is neither a board id nor a port path of bench "${bench.name}" (boards: ${bench.boards.map((b) => b.id).join(', ')})`);
}

export async function powerCommand(action: PowerAction, target: string, options: PowerOptions, io: CliIo): Promise<number> {
  if (!['on', 'off', 'cycle'].includes(action)) throw new HilError('USAGE', `unknown power action "${action}" (use on, off or cycle)`);
  const logger = createLogger(options.logLevel);
  const bench = loadBench(options.bench === undefined ? DEFAULT_BENCH_FILE : resolve(io.cwd, options.bench), { stateHome: stateHomeFrom(io.env) });
  const board = boardForTarget(bench, target);
  const abort = new AbortController();
  void io.interrupted.then((signal) => abort.abort(new HilError('ABORTED', `power ${action} interrupted by ${signal}`)));
  const leased = await openLeasedBench(bench, [board.id], ['power', action, target], options, { io, logger, abort });
  try {
    const usb = leased.session.usb;
    if (usb === undefined) throw new HilError('USB_UNAVAILABLE', `bench "${bench.name}" has no USB view here: hub port power cannot be switched`);
    const snapshot = await usb.discovery.list();
    if (snapshot.problem !== undefined) throw new HilError('USB_UNAVAILABLE', snapshot.problem);
    const power = await usb.portPower(board.portPath);
    if (action !== 'on') await power.setPower(false);
    if (action === 'cycle') await sleep(systemClock, options.offMs, abort.signal);
    if (action !== 'off') await power.setPower(true);
    io.stdout.write(`${board.id}: hub ${power.hubPath} port ${power.port} ${action === 'cycle' ? `power-cycled (off ${options.offMs} ms)` : `powered ${action}`}\n`);
    return 0;
  } finally {
    await leased.close();
  }
}
