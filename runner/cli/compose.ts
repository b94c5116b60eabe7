/**
 * The composition root: turns a bench file into a running bench session. A virtual bench starts the
 * virtual lab in this process — or uses one already running for the same bench (`hil sim` in another
 * terminal); a physical bench finds its boards' ttys by port path (or uses configured ttys / RFC 2217
 * servers). Nothing above
 * this file knows which kind of bench it got.
 */
import type { Bench } from '../../hil-config/load-bench.ts';
import { RemoteLabDiscovery } from '../../sim/control/remote-lab-discovery.ts';
import { SimLab } from '../../sim/sim-lab.ts';
import type { BenchSession, BoardEndpoint } from '../bench/board-endpoint.ts';
import { DiscoveryBenchUsb } from '../bench/discovery-bench-usb.ts';
import { PhysicalDiscovery } from '../bench/physical-discovery.ts';
import { HilError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { SysfsPortPower } from '../usb/sysfs-port-power.ts';

export interface OpenBenchOptions {
  logger: Logger;
  /** Only these boards (default all). */
  boardIds?: readonly string[];
  /** Virtual benches: serve board N on basePort + N. */
  basePort?: number;
  /**
   * A virtual lab started here is shared: other runs on this host attach to it. Before closing it, wait
   * while this says another process still uses the bench (its leases).
   */
  othersUsing?: () => Promise<boolean>;
  /** Told once when closing waits for other runs. */
  onWaitingForOthers?: () => void;
  /**
   * Physical benches: a board that cannot be found by port path fails the open (`throw`, default) or
   * is returned with an empty `linkUrl` (`list`, for `hil boards`, which shows it as offline).
   */
  missingBoards?: 'throw' | 'list';
}

/** Where default state lives, from the environment (only the CLI reads the environment). */
export function stateHomeFrom(env: Readonly<Record<string, string | undefined>>): string | undefined {
  return env['XDG_STATE_HOME'] || undefined;
}

/** What the engine needs of a bench board, reached at `linkUrl`. */
export function endpointFor(board: Bench['boards'][number], linkUrl: string): BoardEndpoint {
  return {
    boardId: board.id, portPath: board.portPath, chip: board.chip, usb: board.usb, linkUrl, expectedMac: board.mac,
    // MicroPython's TinyUSB CDC on native-USB S3 boards (reference micropython-host-protocols.md §10).
    ...(board.usb === 'native' ? { runtimeUsbId: '303a:4001' } : {}),
  };
}

export async function openBench(bench: Bench, options: OpenBenchOptions): Promise<BenchSession> {
  const chosen = bench.boards.filter((board) => options.boardIds === undefined || options.boardIds.includes(board.id));
  const endpoint = endpointFor;

  if (bench.kind === 'physical') return openPhysicalBench(bench, chosen, options);

  const stateDir = bench.stateDir;
  const running = stateDir === undefined ? undefined : SimLab.findRunning(stateDir);
  if (running !== undefined) {
    const urls = new Map(running.boards.map((b) => [b.id, b.url]));
    const boards = chosen.map((board) => {
      const url = urls.get(board.id);
      if (url === undefined) throw new HilError('SIM_START', `the virtual lab running in process ${running.pid} has no board ${board.id}; restart it`);
      return endpoint(board, url);
    });
    options.logger.info({ pid: running.pid }, 'using the virtual lab already running');
    // Its hubs, over the lab's loopback control endpoint.
    const usb = running.usbControlUrl === undefined ? undefined
      : new DiscoveryBenchUsb(new RemoteLabDiscovery(running.usbControlUrl, { logger: options.logger }));
    return { name: bench.name, boards, ...(usb ? { usb } : {}), close: async () => { await usb?.close(); } };
  }

  const lab = await startVirtualLab(bench, options);
  const urls = new Map(lab.boards.map((b) => [b.spec.id, b.url]));
  const usb = new DiscoveryBenchUsb(lab.discovery);
  return {
    name: bench.name, boards: chosen.map((board) => endpoint(board, urls.get(board.id) ?? '')), usb,
    close: async () => {
      await waitWhileOthersUse(options);
      await usb.close();
      await lab.close();
    },
  };
}

/**
 * A physical bench: USB discovery finds each board's tty by its port path (boards may also name a
 * `tty:` or `rfc2217:` explicitly, e.g. ser2net-attached ones). Where the host sees no USB bus, boards
 * without an explicit endpoint are refused with the reason, and USB steps are skipped.
 */
async function openPhysicalBench(bench: Bench, chosen: Bench['boards'], options: OpenBenchOptions): Promise<BenchSession> {
  const discovery = new PhysicalDiscovery({ logger: options.logger });
  const snapshot = await discovery.list();
  const byPath = new Map(snapshot.devices.map((device) => [device.portPath, device]));
  try {
    const boards = chosen.map((board) => {
      const configured = board.rfc2217 ?? board.tty;
      if (configured !== undefined) return endpointFor(board, configured);
      const found = byPath.get(board.portPath)?.serial;
      if (options.missingBoards === 'list' && (snapshot.problem !== undefined || found == null)) return endpointFor(board, '');
      if (snapshot.problem !== undefined) {
        throw new HilError('USB_UNAVAILABLE', `${bench.file}: board ${board.id} (port path ${board.portPath}) has no "tty" or "rfc2217", ` +
          `and it cannot be found by port path: ${snapshot.problem}`, { file: bench.file, boardId: board.id, portPath: board.portPath });
      }
      const device = byPath.get(board.portPath);
      if (device?.serial == null) {
        throw new HilError('BOARD_NOT_ENUMERATED', `board ${board.id}: ${device === undefined ? 'no USB device' : `the device at its port (${device.vendorId.toString(16)}:${device.productId.toString(16)}) has no tty`} ` +
          `at port path ${board.portPath} (devices seen: ${[...byPath.keys()].join(', ') || 'none'})`, { boardId: board.id, portPath: board.portPath });
      }
      return endpointFor(board, device.serial.url);
    });
    // Kept even when the host sees no USB: its listing carries the reason, which USB steps report.
    // sysfs takes over a hub's ports where the usb package cannot address them (Linux ≥ 6.0).
    const usb = new DiscoveryBenchUsb(discovery, { fallback: new SysfsPortPower(), logger: options.logger });
    return { name: bench.name, boards, usb, close: () => usb.close() };
  } catch (err: unknown) {
    await discovery.close();
    throw err;
  }
}

/** Polls `othersUsing` every half second until it says no (the lab this process started is shared). */
async function waitWhileOthersUse(options: OpenBenchOptions): Promise<void> {
  if (options.othersUsing === undefined) return;
  let told = false;
  while (await options.othersUsing().catch(() => false)) {
    if (!told) options.onWaitingForOthers?.();
    told = true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Starts the virtual lab of a virtual bench (all its boards). */
export async function startVirtualLab(bench: Bench, options: OpenBenchOptions): Promise<SimLab> {
  if (bench.kind !== 'virtual') throw new HilError('USAGE', `${bench.file} is a physical bench; the virtual lab needs a bench with kind: virtual`);
  return SimLab.start({
    boards: bench.boards.map((board) => ({
      id: board.id, chip: board.chip, portPath: board.portPath, flashSizeBytes: board.flash, psramBytes: board.psram,
      usb: board.usb, mac: board.mac ?? '00:00:00:00:00:00',
    })),
    hubs: bench.hubs.map((hub) => ({ portPath: hub.portPath, ports: hub.ports, powerSwitching: hub.perPortPower ? 'individual' : 'ganged' })),
    stateDir: bench.stateDir,
    stockFirmwareVersion: bench.virtual?.stockFirmware.version ?? 'v1.24.1',
    speedFactor: bench.virtual?.speedFactor ?? 1,
    ...(bench.virtual?.radio ? { radio: bench.virtual.radio } : {}),
    logger: options.logger,
    ...(options.basePort !== undefined ? { basePort: options.basePort } : {}),
  });
}
