/**
 * Opening a board's serial link again after its USB device left the bus and came back — a native-USB
 * board re-enumerates on every hard reset, on a soft reset with a runtime USB device (reference
 * micropython-host-protocols.md §2.4) and on `USBDevice.active()` changes, and its tty may come back
 * under another name. The board is found again by its port path (its identity), never by the old tty
 * name, and the link is opened only once the host has enumerated a serial device there — so the first
 * open succeeds, where mpremote fails once and needs a second run (§3.3).
 *
 * Without a USB view (a bench without /sys/bus/usb), the same endpoint URL is opened again, retrying
 * until the deadline: the best a host can do when it cannot see the bus.
 */
import { HilError, isHilError } from '../errors.ts';
import type { SerialLink } from '../link/serial-link.ts';
import type { Logger } from '../logger.ts';
import { sleep, type Clock } from '../repl/clock.ts';
import { EnumerationWatch, usbIdOf } from '../suite/enumeration-watch.ts';
import type { BenchUsb } from './bench-usb.ts';
import type { BoardEndpoint } from './board-endpoint.ts';
import type { DiscoveredUsbDevice } from './usb-discovery.ts';

/** Opens links by URL (the real `openLink`, or a test's). */
export type LinkOpenFunction = (url: string, options: { timeoutMs: number; signal?: AbortSignal }) => Promise<SerialLink>;

/** Which device at the port path counts as the board being back. */
export type ReopenTarget =
  /** The identity the board has once its firmware runs (`runtimeUsbId`), when known; else any serial device. */
  | 'firmware'
  /** Any serial device (e.g. the S3's USB-Serial-JTAG while its ROM runs, during flashing). */
  | 'any-serial';

export interface ReopenOptions {
  /** From the call until the link must be open. */
  deadlineMs: number;
  target?: ReopenTarget;
  signal?: AbortSignal;
}

/** A link opened again, and what it took. */
export interface ReopenedLink {
  link: SerialLink;
  url: string;
  /** The tty the host gave the device this time (null without a USB view). */
  ttyPath: string | null;
  /** From the call until the serial device was enumerated (0 when it already was). */
  waitedForDeviceMs: number;
  /** From the call until the link was open. */
  reopenMs: number;
  /** Open attempts: 1 when the first open succeeded. */
  attempts: number;
}

/** See the module note. */
export type BoardLinkReopener = (endpoint: BoardEndpoint, options: ReopenOptions) => Promise<ReopenedLink>;

export interface BoardLinkReopenerDeps {
  usb: BenchUsb | undefined;
  openLink: LinkOpenFunction;
  clock: Clock;
  logger: Logger;
}

/** Pause between open attempts when an open fails (a tty whose node is not ready yet, a lab endpoint still off the bus). */
const RETRY_PAUSE_MS = 50;
/** Without an expected identity, a device must stay put this long to count (the S3 ROM's JTAG device comes and goes). */
const UNKNOWN_IDENTITY_SETTLE_MS = 300;
/** The longest a single open may take. */
const OPEN_TIMEOUT_MS = 5000;

/** Builds the reopener for one bench (see the module note). */
export function createBoardLinkReopener(deps: BoardLinkReopenerDeps): BoardLinkReopener {
  return async (endpoint, options) => {
    const { clock } = deps;
    const startedAt = clock.now();
    const deadline = startedAt + options.deadlineMs;
    let attempts = 0;
    let lastError: unknown;
    for (;;) {
      options.signal?.throwIfAborted();
      const found = deps.usb === undefined
        ? { url: endpoint.linkUrl, ttyPath: null }
        : await waitForSerialDevice(deps.usb, endpoint, options.target ?? 'firmware', deadline - clock.now(), clock, options.signal);
      const waitedForDeviceMs = clock.now() - startedAt;
      attempts++;
      try {
        const link = await deps.openLink(found.url, { timeoutMs: Math.max(1, Math.min(OPEN_TIMEOUT_MS, deadline - clock.now())), ...(options.signal ? { signal: options.signal } : {}) });
        const reopenMs = clock.now() - startedAt;
        deps.logger.info({ board: endpoint.boardId, portPath: endpoint.portPath, url: found.url, tty: found.ttyPath, attempts, reopenMs }, 'serial link reopened');
        return { link, url: found.url, ttyPath: found.ttyPath, waitedForDeviceMs, reopenMs, attempts };
      } catch (err: unknown) {
        // A port held by another program is not going to free itself: bad input, at once.
        if (isHilError(err, 'PORT_IN_USE') || isHilError(err, 'ABORTED')) throw err;
        lastError = err;
        deps.logger.debug({ board: endpoint.boardId, url: found.url, attempts, err }, 'reopen attempt failed');
      }
      if (clock.now() + RETRY_PAUSE_MS >= deadline) break;
      await sleep(clock, RETRY_PAUSE_MS, options.signal);
    }
    throw new HilError('LINK_GONE', `${endpoint.boardId} at ${endpoint.portPath}: the serial port did not open again within ${options.deadlineMs} ms ` +
      `(${attempts} attempt${attempts === 1 ? '' : 's'}): ${lastError instanceof Error ? lastError.message : String(lastError)}`,
    { boardId: endpoint.boardId, portPath: endpoint.portPath, phase: 'reconnect' }, { cause: lastError });
  };
}

/**
 * Waits until the host has a serial device enumerated at the board's port path: the board's firmware
 * identity when known (settled at once), else any serial device that stays put briefly. Fails with
 * `BOARD_NOT_ENUMERATED`, saying what was seen there — a device without a serial interface means the
 * board's REPL port is gone (a runtime USB device without the built-in CDC).
 */
async function waitForSerialDevice(usb: BenchUsb, endpoint: BoardEndpoint, target: ReopenTarget, budgetMs: number, clock: Clock,
  signal: AbortSignal | undefined): Promise<{ url: string; ttyPath: string }> {
  const expected = target === 'firmware' && endpoint.runtimeUsbId !== undefined ? new Map([[endpoint.portPath, endpoint.runtimeUsbId]]) : new Map<string, string>();
  const settleMs = expected.size > 0 || target === 'any-serial' ? 0 : UNKNOWN_IDENTITY_SETTLE_MS;
  const watch = new EnumerationWatch([endpoint.portPath], clock, expected);
  const stop = usb.discovery.onHotplug(watch.onEvent);
  try {
    watch.start();
    // Subscribed first, then listed: a device enumerated in between is seen either way.
    const present = (await usb.discovery.list()).devices.find((device) => device.portPath === endpoint.portPath);
    if (present !== undefined && watch.lastSeen(endpoint.portPath) === null) watch.onEvent({ type: 'attach', atMs: clock.now(), device: present });
    const { settled } = await watch.waitSettled(Math.max(0, budgetMs), settleMs, signal);
    const device = settled[0]?.device;
    if (device?.serial) return { url: device.serial.url, ttyPath: device.serial.ttyPath };
    throw notBack(endpoint, watch.lastSeen(endpoint.portPath), budgetMs, watch.lastFailure(endpoint.portPath));
  } finally {
    stop();
  }
}

function notBack(endpoint: BoardEndpoint, seen: DiscoveredUsbDevice | null, budgetMs: number, refused: string | undefined): HilError {
  const evidence = { boardId: endpoint.boardId, portPath: endpoint.portPath, phase: 'reconnect', ...(refused !== undefined ? { enumerationFailure: refused } : {}) };
  if (seen === null && refused !== undefined) {
    return new HilError('BOARD_NOT_ENUMERATED', `${endpoint.boardId} at ${endpoint.portPath}: the host refused to enumerate the board's USB device: ${refused}`, evidence);
  }
  if (seen !== null && seen.serial === null) {
    return new HilError('BOARD_NOT_ENUMERATED', `${endpoint.boardId} at ${endpoint.portPath} is on the bus as ${usbIdOf(seen)} but has no serial ` +
      'interface: its REPL port is gone (a runtime USB device without the built-in CDC?)', evidence);
  }
  const as = seen === null ? 'nothing attached there' : `last seen as ${usbIdOf(seen)}`;
  return new HilError('BOARD_NOT_ENUMERATED', `${endpoint.boardId} at ${endpoint.portPath}: no serial device enumerated within ${Math.round(budgetMs)} ms (${as})`, evidence);
}
