/**
 * What `hil boards` reports about each bench board, and how the facts from the bench file, USB
 * discovery, the lease store and a REPL probe combine into one row. Pure: no I/O here, so the rules
 * (which state, which note, which exit code) are tested without a lab.
 *
 * `hil boards --json` prints a {@link BoardsReport} as it is; its field names are a stable interface:
 *
 * ```
 * { bench: { name, file, kind },
 *   usb: { available, problem? },          // problem: why VID:PID etc. are unknown
 *   probed,                                // false with --no-probe
 *   boards: [ { id, portPath, chip, usbMode,
 *               serial: { tty, url },      // tty: discovered tty name/path or null; url: what the rig opens
 *               usb: { vidPid, vendorId, productId, serialNumber, manufacturer, product } | null,
 *               expectedMac, mac, macConfirmed, firmwareVersion, machine,
 *               state,                     // "idle" | "leased" | "offline"
 *               lease: { user, host, pid, command, token, acquiredAtMs, expiresAtMs } | null,
 *               notes: [ "..." ] } ] }
 * ```
 */
import type { BoardEndpoint } from '../bench/board-endpoint.ts';
import type { DiscoveredUsbDevice } from '../bench/usb-discovery.ts';
import { ExitCode, isHilError } from '../errors.ts';
import type { BoardLeaseInfo } from '../lease/lease-store.ts';

/**
 * `idle`: free (and, when probed, answering); `leased`: another run holds it (never probed);
 * `offline`: nothing enumerated at its port path, or its serial endpoint / REPL did not answer.
 * A quarantine state comes with the queue's board health counters; it does not exist yet.
 */
export type BoardState = 'idle' | 'leased' | 'offline';

/** The USB device found at a board's port path. */
export interface BoardUsbIdentity {
  /** `vvvv:pppp`, lowercase hex. */
  vidPid: string;
  vendorId: number;
  productId: number;
  serialNumber: string | null;
  manufacturer: string | null;
  product: string | null;
}

/** Who holds a leased board (a flattened {@link BoardLeaseInfo}); times in milliseconds since the epoch. */
export interface BoardLeaseView {
  user: string;
  host: string;
  pid: number;
  command: string;
  token: number;
  acquiredAtMs: number;
  expiresAtMs: number;
}

/** One board of `hil boards`. */
export interface BoardListing {
  id: string;
  /** USB hub port path: the board's identity. */
  portPath: string;
  chip: BoardEndpoint['chip'];
  usbMode: BoardEndpoint['usb'];
  /** `tty`: the tty the host made for the device (null when unknown); `url`: tty path or RFC 2217 URL the rig opens. */
  serial: { tty: string | null; url: string };
  /** Null when nothing is enumerated at the port path or the bench has no USB view. */
  usb: BoardUsbIdentity | null;
  /** The MAC the bench file expects (configured or derived); null when it names none. */
  expectedMac: string | null;
  /** The MAC the board reported over its REPL; null when not probed. */
  mac: string | null;
  /** True when `mac` equals `expectedMac`, false when it differs, null when either is unknown. */
  macConfirmed: boolean | null;
  /** MicroPython version the board reports, e.g. `v1.24.1`; null when not probed. */
  firmwareVersion: string | null;
  /** The firmware's board description (`os.uname().machine`); null when not probed. */
  machine: string | null;
  state: BoardState;
  /** Set when `state` is `leased`. */
  lease: BoardLeaseView | null;
  /** Why a board is offline, who else is plugged in, what is missing; one sentence each. */
  notes: string[];
}

/** The whole `hil boards` answer (see the file comment for the JSON form). */
export interface BoardsReport {
  bench: { name: string; file: string; kind: 'virtual' | 'physical' };
  usb: { available: boolean; problem?: string };
  /** False with `--no-probe`: MAC and firmware version were not read. */
  probed: boolean;
  boards: BoardListing[];
}

/** What a REPL probe read from a board. */
export interface ProbedFacts {
  mac: string;
  firmwareVersion: string;
  machine: string;
}

/** How probing one idle board ended. */
export type ProbeOutcome =
  | { kind: 'answered'; facts: ProbedFacts }
  /** It was leased by another run between the listing and our lease. */
  | { kind: 'busy'; lease: BoardLeaseInfo }
  | { kind: 'failed'; error: unknown };

/**
 * A board's row before probing: leased when the store says so, offline when the bench has a USB view
 * and nothing is enumerated at its port path, otherwise idle. `devices` is undefined without a USB view.
 */
export function listBoard(endpoint: BoardEndpoint, devices: readonly DiscoveredUsbDevice[] | undefined, lease: BoardLeaseInfo | undefined): BoardListing {
  const device = devices?.find((d) => d.portPath === endpoint.portPath && !d.isHub);
  const notes: string[] = [];
  let state: BoardState = 'idle';
  if (lease !== undefined) {
    state = 'leased';
    if (devices !== undefined && device === undefined) notes.push(`nothing is enumerated at port path ${endpoint.portPath} right now (its holder may be power-cycling it)`);
  } else if (devices !== undefined && device === undefined) {
    state = 'offline';
    notes.push(`nothing is enumerated at port path ${endpoint.portPath}: unplugged, unpowered, or re-enumerating`);
  } else if (endpoint.linkUrl === '') {
    // A physical board with no configured endpoint that discovery could not find (no USB view here).
    state = 'offline';
    notes.push(`no serial endpoint: the bench names no "tty"/"rfc2217" for it and it cannot be found by port path on this host`);
  }
  if (endpoint.expectedMac === undefined) notes.push('the bench file names no MAC for this board: add "mac:" to confirm its identity');
  return {
    id: endpoint.boardId,
    portPath: endpoint.portPath,
    chip: endpoint.chip,
    usbMode: endpoint.usb,
    serial: { tty: device?.serial?.ttyPath ?? null, url: device?.serial?.url ?? endpoint.linkUrl },
    usb: device === undefined ? null : usbIdentityOf(device),
    expectedMac: endpoint.expectedMac ?? null,
    mac: null,
    macConfirmed: null,
    firmwareVersion: null,
    machine: null,
    state,
    lease: lease === undefined ? null : leaseView(lease),
    notes,
  };
}

/** The row after probing it: facts and identity check, or leased / offline with the reason. */
export function withProbe(listing: BoardListing, outcome: ProbeOutcome): BoardListing {
  if (outcome.kind === 'busy') return { ...listing, state: 'leased', lease: leaseView(outcome.lease) };
  if (outcome.kind === 'failed') {
    return { ...listing, state: 'offline', notes: [...listing.notes, `no answer on ${listing.serial.url}: ${describeProbeError(outcome.error)}`] };
  }
  const { mac, firmwareVersion, machine } = outcome.facts;
  const macConfirmed = listing.expectedMac === null ? null : listing.expectedMac === mac;
  const notes = macConfirmed === false
    ? [...listing.notes, `reports MAC ${mac} but the bench expects ${listing.expectedMac}: another board is plugged into this port`]
    : listing.notes;
  return { ...listing, mac, macConfirmed, firmwareVersion, machine, notes };
}

/** 0 when every board is listed fine (idle or leased); 3 when one is offline or another board sits at its port. */
export function exitCodeForReport(report: BoardsReport): number {
  const rigProblem = report.boards.some((board) => board.state === 'offline' || board.macConfirmed === false);
  return rigProblem ? ExitCode.infrastructure : ExitCode.passed;
}

function usbIdentityOf(device: DiscoveredUsbDevice): BoardUsbIdentity {
  return {
    vidPid: `${hex4(device.vendorId)}:${hex4(device.productId)}`,
    vendorId: device.vendorId,
    productId: device.productId,
    serialNumber: device.serialNumber,
    manufacturer: device.manufacturer,
    product: device.product,
  };
}

function leaseView(info: BoardLeaseInfo): BoardLeaseView {
  const { user, host, pid, command } = info.holder;
  return { user, host, pid, command, token: info.token, acquiredAtMs: info.acquiredAtMs, expiresAtMs: info.expiresAtMs };
}

function describeProbeError(error: unknown): string {
  if (isHilError(error)) return `${error.message} [${error.code}]`;
  if (error instanceof Error) return error.message;
  return String(error);
}

function hex4(value: number): string {
  return value.toString(16).padStart(4, '0');
}
