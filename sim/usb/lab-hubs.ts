/**
 * The hubs of a virtual lab: which hubs exist (given, or one per parent path of the boards' port
 * paths), where each board is plugged in, and the hub delays at the lab's speed. Bad placements are
 * reported together in one `CONFIG_INVALID` error before anything starts.
 */
import type { Logger } from 'pino';
import { HilError } from '../../runner/errors.ts';
import type { PowerSwitching } from './hub-protocol.ts';
import { HUB_DEFAULTS, SimUsbHub } from './sim-usb-hub.ts';
import type { UsbHostNumbering } from './usb-host-numbering.ts';

/** One hub of the lab. */
export interface LabHubSpec {
  /** Port path of the hub itself, e.g. `1-1`. */
  portPath: string;
  /** 1..15. */
  ports: number;
  /** Default `individual`. */
  powerSwitching?: PowerSwitching;
}

/** Where a board is plugged in: index into the planned hubs, 1-based port. */
export interface BoardPlacement {
  hubIndex: number;
  port: number;
}

/** The hubs to create and each board's place on them (same order as the boards). */
export interface LabHubPlan {
  hubs: LabHubSpec[];
  placements: BoardPlacement[];
}

/** Ports of a derived hub: the default hub's seven, more if a board sits on a higher port. */
const DERIVED_HUB_MIN_PORTS = 7;
const MAX_HUB_PORTS = 15;
const HUB_PATH = /^\d+-\d+(\.\d+)*$/;
const DEVICE_ON_HUB_PATH = /^(\d+-\d+(?:\.\d+)*)\.(\d+)$/;

/**
 * Checks and completes the lab's hub layout. Without `hubs`, one individually switched hub per
 * distinct parent path of the boards' port paths (`1-1.3` → hub `1-1`, port 3).
 *
 * @throws HilError `CONFIG_INVALID` listing every problem: a board on a root port or a malformed
 *   path, two boards on one port, a board whose hub is missing or lacks that port, a bad hub.
 */
export function planLabHubs(boards: readonly { id: string; portPath: string }[], hubs: readonly LabHubSpec[] | undefined): LabHubPlan {
  const problems: string[] = [];
  const places = boards.map((board) => {
    const match = DEVICE_ON_HUB_PATH.exec(board.portPath);
    if (match !== null) return { board, hubPath: match[1]!, port: Number(match[2]) };
    problems.push(HUB_PATH.test(board.portPath)
      ? `board ${board.id}: ${board.portPath} is a root port of the host controller; in the virtual lab boards sit on a hub port (e.g. ${board.portPath}.1)`
      : `board ${board.id}: "${board.portPath}" is not a USB port path (expected bus-port.port..., e.g. 1-1.3)`);
    return undefined;
  });
  const seen = new Map<string, string>();
  for (const board of boards) {
    const other = seen.get(board.portPath);
    if (other !== undefined) problems.push(`boards ${other} and ${board.id} are both on port ${board.portPath}; two boards cannot share a port`);
    seen.set(board.portPath, board.id);
  }
  const planned = hubs === undefined ? deriveHubs(places, problems) : checkHubs(hubs, seen, problems);
  const placements: BoardPlacement[] = [];
  for (const place of places) {
    if (place === undefined) continue;
    const hubIndex = planned.findIndex((hub) => hub.portPath === place.hubPath);
    const hub = planned[hubIndex];
    if (hub === undefined) {
      problems.push(`board ${place.board.id}: no hub at ${place.hubPath} for port path ${place.board.portPath} (hubs: ${planned.map((h) => h.portPath).join(', ') || 'none'})`);
    } else if (place.port < 1 || place.port > hub.ports) {
      problems.push(`board ${place.board.id}: hub ${hub.portPath} has ports 1-${hub.ports}, there is no port ${place.port}`);
    } else {
      placements.push({ hubIndex, port: place.port });
    }
  }
  if (problems.length > 0) throw new HilError('CONFIG_INVALID', `the virtual lab's USB layout is invalid: ${problems.join('; ')}`, { problems });
  return { hubs: planned, placements };
}

function deriveHubs(places: readonly ({ hubPath: string; port: number } | undefined)[], problems: string[]): LabHubSpec[] {
  const highestPort = new Map<string, number>();
  for (const place of places) {
    if (place !== undefined) highestPort.set(place.hubPath, Math.max(highestPort.get(place.hubPath) ?? 0, place.port));
  }
  return [...highestPort].map(([portPath, highest]) => {
    if (highest > MAX_HUB_PORTS) problems.push(`port ${portPath}.${highest}: a USB 2.0 hub has at most ${MAX_HUB_PORTS} ports`);
    return { portPath, ports: Math.min(MAX_HUB_PORTS, Math.max(DERIVED_HUB_MIN_PORTS, highest)), powerSwitching: 'individual' as const };
  });
}

function checkHubs(hubs: readonly LabHubSpec[], boardPaths: ReadonlyMap<string, string>, problems: string[]): LabHubSpec[] {
  const seen = new Set<string>();
  for (const hub of hubs) {
    if (!HUB_PATH.test(hub.portPath)) problems.push(`hub "${hub.portPath}": not a USB port path (expected bus-port[.port...], e.g. 1-1)`);
    if (seen.has(hub.portPath)) problems.push(`two hubs at ${hub.portPath}`);
    seen.add(hub.portPath);
    if (!Number.isInteger(hub.ports) || hub.ports < 1 || hub.ports > MAX_HUB_PORTS) problems.push(`hub ${hub.portPath}: a USB 2.0 hub has 1 to ${MAX_HUB_PORTS} ports, got ${hub.ports}`);
    const board = boardPaths.get(hub.portPath);
    if (board !== undefined) problems.push(`hub ${hub.portPath} and board ${board} are on the same port path`);
  }
  return hubs.map((hub) => ({ ...hub }));
}

/**
 * Hub delays at the lab's wire speed: real time at 1, divided by larger factors, none at 0 (unpaced),
 * so an unpaced lab is not slowed down by power-good and enumeration waits.
 */
export function labHubTimings(speedFactor: number): { powerOnToPowerGoodMs: number; enumerationDelayMs: number; portResetMs: number } {
  const scale = (ms: number): number => (speedFactor > 0 && Number.isFinite(speedFactor) ? ms / speedFactor : 0);
  return {
    powerOnToPowerGoodMs: scale(HUB_DEFAULTS.powerOnToPowerGoodMs),
    enumerationDelayMs: scale(HUB_DEFAULTS.enumerationDelayMs),
    portResetMs: scale(HUB_DEFAULTS.portResetMs),
  };
}

/** Creates the planned hubs, sharing one host numbering (addresses, ttys). */
export function createLabHubs(plan: LabHubPlan, options: { speedFactor: number; numbering: UsbHostNumbering; logger?: Logger | undefined }): SimUsbHub[] {
  const timings = labHubTimings(options.speedFactor);
  return plan.hubs.map((hub) => new SimUsbHub({
    portPath: hub.portPath,
    ports: hub.ports,
    powerSwitching: hub.powerSwitching ?? 'individual',
    ...timings,
    numbering: options.numbering,
    ...(options.logger ? { logger: options.logger } : {}),
  }));
}
