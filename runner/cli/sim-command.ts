/**
 * `hil sim`: runs the virtual lab in the foreground until SIGINT/SIGTERM and prints where each board
 * is, so that esptool.py, mpremote or pyserial can be pointed at it.
 */
import { resolve } from 'node:path';
import { DEFAULT_BENCH_FILE, loadBench } from '../../hil-config/load-bench.ts';
import type { SimLab } from '../../sim/sim-lab.ts';
import { createLogger } from '../logger.ts';
import type { CliIo } from './cli-io.ts';
import { stateHomeFrom, startVirtualLab } from './compose.ts';

export interface SimOptions {
  bench?: string;
  basePort?: number;
  logLevel: string;
}

export async function simCommand(options: SimOptions, io: CliIo): Promise<number> {
  const logger = createLogger(options.logLevel);
  const bench = loadBench(options.bench === undefined ? DEFAULT_BENCH_FILE : resolve(io.cwd, options.bench), { stateHome: stateHomeFrom(io.env) });
  const lab = await startVirtualLab(bench, { logger, ...(options.basePort !== undefined ? { basePort: options.basePort } : {}) });
  try {
    // SimLab.start has waited for every board to finish booting, so the USB identities are current.
    io.stdout.write(describeLab(lab));
    io.stderr.write(`hil sim: virtual lab "${bench.name}" running (${lab.boards.length} boards, flash in ${bench.stateDir}; ` +
      `USB hubs at ${lab.usbControlUrl}); Ctrl-C to stop\n`);
    const signal = await io.interrupted;
    io.stderr.write(`hil sim: ${signal} received, stopping the virtual lab\n`);
  } finally {
    await lab.close();
  }
  return 0;
}

/** One line per board: id, RFC 2217 URL, chip, MAC, port path, USB identity. */
export function describeLab(lab: SimLab): string {
  const rows = lab.boards.map(({ spec, board, url }) => {
    const usb = board.usbIdentity;
    const identity = usb === null ? 'usb (not enumerated)'
      : `usb ${hex4(usb.vid)}:${hex4(usb.pid)} "${usb.manufacturer ?? ''}" "${usb.product ?? ''}" serial ${usb.serialNumber ?? '(none)'}`;
    return [spec.id, url, spec.chip, spec.mac, `port ${spec.portPath}`, board.state, identity];
  });
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col] ?? 0))).join('  ')).join('\n') + '\n';
}

function hex4(value: number): string {
  return value.toString(16).padStart(4, '0');
}
