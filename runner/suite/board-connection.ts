/**
 * One board in use by a suite: its link, its REPL client and the facts read from it. Connecting confirms
 * identity: a board at the expected port path that reports another MAC is an infrastructure error.
 *
 * The connection survives the board leaving the USB bus (a native-USB board's soft reset with a runtime
 * USB device, `USBDevice.active()` changes, hard resets): {@link reconnect} finds the board again by
 * its port path, opens the serial endpoint the host enumerated this time and resynchronises at the raw
 * prompt — without a soft reset, which would undo what the board just set up.
 */
import type { BoardEndpoint } from '../bench/board-endpoint.ts';
import { createBoardLinkReopener, type BoardLinkReopener, type ReopenTarget } from '../bench/board-link-reopener.ts';
import { HilError, isHilError } from '../errors.ts';
import type { SerialLink } from '../link/serial-link.ts';
import type { Logger } from '../logger.ts';
import { MicroPythonRepl } from '../repl/micropython-repl.ts';
import { systemClock, type Clock } from '../repl/clock.ts';
import type { BoardFacts } from './run-events.ts';

/** Opens links by URL; the composition root passes the real `openLink`, tests may pass another. */
export type LinkOpener = (url: string, options: { timeoutMs: number; signal?: AbortSignal }) => Promise<SerialLink>;

/** Board-side snippet reading the facts recorded with every suite (one Python tuple literal back). */
const FACTS_SNIPPET = [
  'import os, machine',
  'u = os.uname()',
  "print(repr((u.version.split(' ')[0], u.machine, ':'.join('%02x' % b for b in machine.unique_id()))))",
].join('\n');

/** The ways to soft-reset a board from the raw REPL (reference micropython-host-protocols.md §2). */
export type SoftResetTrigger = 'ctrl-d' | 'machine.soft_reset' | 'SystemExit';

/** Code that ends in a soft reset when run in the raw REPL. */
const SOFT_RESET_CODE: Readonly<Record<Exclude<SoftResetTrigger, 'ctrl-d'>, string>> = {
  'machine.soft_reset': 'import machine\nmachine.soft_reset()',
  SystemExit: 'raise SystemExit',
};

/** Raw prompt after a reconnect: the board is idle (or finishing boot.py), answers within this. */
const RESYNC_TIMEOUT_MS = 5000;

/** How a reconnection went (recorded as JUnit properties by the steps that cause one). */
export interface Reconnection {
  /** From the call (the link found gone) to the board answering at the raw prompt again. */
  reconnectMs: number;
  /** Until the host had the board's serial device enumerated again. */
  waitedForDeviceMs: number;
  /** Open attempts; 1 = reconnected on the first try. */
  attempts: number;
  /** The tty (physical) or tty name (virtual lab) the board came back as. */
  ttyPath: string | null;
}

export interface ConnectOptions {
  /** Finds the board again by port path after it re-enumerated; default: reopen the same URL (no USB view). */
  reopen?: BoardLinkReopener;
  signal?: AbortSignal;
  /** Measures reconnections; default the system clock. */
  clock?: Clock;
}

/** Placeholder until the facts are read (the connection object exists before, for its soft reset). */
const PENDING_FACTS: BoardFacts = { boardId: '', portPath: '', linkUrl: '', chip: 'esp32', mac: '', firmwareVersion: '' };

export class BoardConnection {
  #facts: BoardFacts;
  #link: SerialLink;
  #repl: MicroPythonRepl;
  /** Console text of the links closed by reconnects, so {@link consoleText} keeps the whole story. */
  #earlierConsole = '';

  private constructor(readonly endpoint: BoardEndpoint, link: SerialLink, repl: MicroPythonRepl, facts: BoardFacts,
    private readonly logger: Logger, private readonly reopen: BoardLinkReopener, private readonly clock: Clock) {
    this.#link = link;
    this.#repl = repl;
    this.#facts = facts;
  }

  /** What the board reported when connected (firmware version, machine, MAC). */
  get facts(): BoardFacts {
    return this.#facts;
  }

  private set facts(facts: BoardFacts) {
    this.#facts = facts;
  }

  /** Opens the link, enters the raw REPL with a soft reset (clean VM, as mpremote does) and reads facts. */
  static async connect(endpoint: BoardEndpoint, openLink: LinkOpener, logger: Logger, options: ConnectOptions | AbortSignal = {}): Promise<BoardConnection> {
    const { reopen, signal, clock } = options instanceof AbortSignal ? { reopen: undefined, signal: options, clock: undefined } : options;
    const link = await openLink(endpoint.linkUrl, { timeoutMs: 5000, ...(signal ? { signal } : {}) });
    const boardLogger = logger.child({ board: endpoint.boardId });
    const repl = new MicroPythonRepl(link, { boardId: endpoint.boardId, portPath: endpoint.portPath, logger: boardLogger });
    let connection: BoardConnection | undefined;
    try {
      await repl.enterRawRepl({ softReset: false, timeoutMs: 15_000 });
      const time = clock ?? systemClock;
      // Without a bench USB view the reopener opens the same URL again (see board-link-reopener.ts).
      const reopener = reopen ?? createBoardLinkReopener({ usb: undefined, openLink, clock: time, logger: boardLogger });
      connection = new BoardConnection(endpoint, link, repl, PENDING_FACTS, boardLogger, reopener, time);
      // A board left with a runtime USB device (an earlier run, a boot.py) re-enumerates here: followed.
      await connection.softReset({ timeoutMs: 15_000, ...(signal ? { signal } : {}) });
      connection.facts = await readFacts(endpoint, connection.repl);
      return connection;
    } catch (err: unknown) {
      await link.close();
      if (connection !== undefined && connection.link !== link) await connection.link.close();
      throw err;
    }
  }

  /** The current link (another object after a {@link reconnect}). */
  get link(): SerialLink {
    return this.#link;
  }

  /** The REPL client on the current link. */
  get repl(): MicroPythonRepl {
    return this.#repl;
  }

  /**
   * Finds the board again after its serial port went away and resumes at the raw prompt (no soft
   * reset). `target` says which device at the port path counts (default: the firmware's identity).
   * Errors: `BOARD_NOT_ENUMERATED` (not back in time, or back without a serial interface), `LINK_GONE`
   * (it would not open), `TIMEOUT` (no raw prompt).
   */
  async reconnect(options: { deadlineMs: number; target?: ReopenTarget; signal?: AbortSignal }): Promise<Reconnection> {
    const startedAt = this.clock.now();
    this.#earlierConsole += this.#repl.consoleText();
    this.#repl.dispose();
    await this.#link.close().catch(() => undefined);
    const reopened = await this.reopen(this.endpoint, options);
    this.#link = reopened.link;
    this.#repl = new MicroPythonRepl(reopened.link, { boardId: this.endpoint.boardId, portPath: this.endpoint.portPath, logger: this.logger });
    const left = Math.max(RESYNC_TIMEOUT_MS, options.deadlineMs - (this.clock.now() - startedAt));
    await this.#repl.enterRawRepl({ softReset: false, timeoutMs: left, ...(options.signal ? { signal: options.signal } : {}) });
    const reconnection = { reconnectMs: this.clock.now() - startedAt, waitedForDeviceMs: reopened.waitedForDeviceMs, attempts: reopened.attempts, ttyPath: reopened.ttyPath };
    this.logger.info({ ...reconnection }, 'board reconnected');
    return reconnection;
  }

  /**
   * Soft reset from the raw REPL (§2.1). A board that drops off the bus meanwhile (a runtime USB
   * device was active, §2.4) is reconnected; the result says so and how long it took.
   */
  async softReset(options: { timeoutMs: number; via?: SoftResetTrigger; signal?: AbortSignal }): Promise<{ softResetMs: number; reconnection?: Reconnection }> {
    const startedAt = this.clock.now();
    const via = options.via === undefined || options.via === 'ctrl-d' ? {} : { via: SOFT_RESET_CODE[options.via] };
    try {
      await this.#repl.softReset({ timeoutMs: options.timeoutMs, ...via, ...(options.signal ? { signal: options.signal } : {}) });
      return { softResetMs: this.clock.now() - startedAt };
    } catch (err: unknown) {
      if (!isHilError(err, 'LINK_GONE')) throw err;
      const reconnection = await this.reconnect({ deadlineMs: Math.max(1, options.timeoutMs - (this.clock.now() - startedAt)), ...(options.signal ? { signal: options.signal } : {}) });
      return { softResetMs: this.clock.now() - startedAt, reconnection };
    }
  }

  /** Everything the board printed while connected (across reconnects). */
  consoleText(): string {
    return this.#earlierConsole + this.#repl.consoleText();
  }

  async close(): Promise<void> {
    try {
      await this.#repl.exitRawRepl({ timeoutMs: 2000 });
    } catch {
      // A board that does not answer any more is closed all the same.
    }
    await this.#link.close();
  }
}

async function readFacts(endpoint: BoardEndpoint, repl: MicroPythonRepl): Promise<BoardFacts> {
  const result = await repl.exec(FACTS_SNIPPET, { timeoutMs: 10_000 });
  const match = /\('([^']*)', '([^']*)', '([0-9a-f:]{17})'\)/.exec(result.stdout);
  if (result.stderr !== '' || !match) {
    throw new HilError('REPL_PROTOCOL', `board ${endpoint.boardId} at ${endpoint.portPath} did not report its identity`, {
      boardId: endpoint.boardId, portPath: endpoint.portPath, phase: 'read board facts', consoleTail: `${result.stdout}${result.stderr}`,
    });
  }
  const [, firmwareVersion = '', machine = '', mac = ''] = match;
  if (endpoint.expectedMac !== undefined && endpoint.expectedMac !== mac) {
    throw new HilError('REPL_PROTOCOL', `board ${endpoint.boardId} at port path ${endpoint.portPath} reports MAC ${mac}, ` +
      `but the bench expects ${endpoint.expectedMac}: another board is plugged into that port`, {
      boardId: endpoint.boardId, portPath: endpoint.portPath, phase: 'confirm identity',
    });
  }
  return { boardId: endpoint.boardId, portPath: endpoint.portPath, linkUrl: endpoint.linkUrl, chip: endpoint.chip, mac, firmwareVersion, machine };
}
