/**
 * One instance of a multitest running on one board: starting its script in the raw REPL, reading its
 * output line by line while it runs, feeding its stdin, following an announced reboot, and stopping it.
 * Behaviour follows run-multitests.py's board instances
 * (/work/shared/reference/micropython-host-protocols.md §6.2, §6.6–§6.8).
 */
import type { BoardEndpoint } from '../bench/board-endpoint.ts';
import { HilError, isHilError } from '../errors.ts';
import type { SerialLink } from '../link/serial-link.ts';
import type { Logger } from '../logger.ts';
import { utf8 } from '../repl/byte-text.ts';
import { sleep, type Clock } from '../repl/clock.ts';
import { HostBytes } from '../repl/raw-repl-bytes.ts';
import type { MicroPythonRepl } from '../repl/micropython-repl.ts';
import { BOOT_BANNER } from './control-lines.ts';
import { InstanceLineReader } from './instance-line-reader.ts';

/** A connected board the engine can run an instance on (a `BoardConnection` is one). */
export interface MultitestBoard {
  readonly endpoint: Pick<BoardEndpoint, 'boardId' | 'portPath'>;
  readonly link: SerialLink;
  readonly repl: MicroPythonRepl;
}

/**
 * Opens a board again after its link vanished during an announced reboot (a native-USB board leaves
 * the bus on a hard reset). Returns the new connection, already in the raw REPL or not.
 */
export type BoardReconnector = (board: MultitestBoard, signal?: AbortSignal) => Promise<MultitestBoard>;

/** What reading an instance produced next. */
export type InstanceEvent =
  /** A line, decoded and right-stripped. */
  | { kind: 'line'; text: string }
  /** The program ended: `lastText` is what it printed after its last line end, `traceback` its stderr. */
  | { kind: 'finished'; lastText: string; traceback: string }
  /** No complete line by the deadline. */
  | { kind: 'timeout' };

/** How an announced reboot went. */
export type RebootOutcome =
  | { rebooted: true; how: 'hard' | 'soft' | 'reconnected' }
  | { rebooted: false; reason: string };

/** Timing of an instance's board operations, in milliseconds. */
export interface InstanceTimings {
  /** Entering the raw REPL with a soft reset, and sending the script. */
  startTimeoutMs: number;
  /** Reading the traceback part once stdout has ended. */
  tracebackTimeoutMs: number;
  /** Reboot wait: the first output must come this soon (run-multitests.py: 1 s). */
  rebootInitialTimeoutMs: number;
  /** Reboot wait: the banner must come this soon (run-multitests.py: 5 s). */
  rebootFullTimeoutMs: number;
  /** Stopping: letting an ending program finish, then again getting back to an idle raw prompt. */
  stopTimeoutMs: number;
}

/** The raw REPL banner line, which ends a soft reboot that started in the raw REPL. */
const RAW_BANNER_LINE = /^raw REPL; CTRL-B to exit$/;

/** run-multitests.py lets the board settle this long after its banner before entering the raw REPL. */
const AFTER_BANNER_MS = 100;

/**
 * Where the program is: `running`; `ending` (it printed `SKIP` and exits on its own); `ended` (its
 * result framing was read, the board finishes with `>` or a soft reboot); `idle` (not started, stopped,
 * or rebooted and not yet resumed).
 */
type ProgramState = 'idle' | 'running' | 'ending' | 'ended';

/**
 * Drives one instance on one board for the engine. Reads never overlap: the engine has at most one
 * {@link next} (or {@link awaitReboot}) outstanding per instance and ends it before {@link stop}.
 */
export class BoardInstance {
  private lines: InstanceLineReader | undefined;
  private current: MultitestBoard;
  private state: ProgramState = 'idle';

  constructor(
    readonly index: number,
    board: MultitestBoard,
    private readonly clock: Clock,
    private readonly timings: InstanceTimings,
    private readonly logger: Logger,
    private readonly reconnect?: BoardReconnector,
  ) {
    this.current = board;
  }

  /** The board in use (another object than the one given after a reconnect). */
  get board(): MultitestBoard {
    return this.current;
  }

  /** True from {@link start} until the program ended (or announced its end) or the instance was stopped. */
  get running(): boolean {
    return this.state === 'running';
  }

  /** The program printed `SKIP`: it raises `SystemExit` next, so {@link stop} lets it end first. */
  markEnding(): void {
    if (this.state === 'running') this.state = 'ending';
  }

  /** The program is gone (the board rebooted under it): {@link stop} has nothing to wait for. */
  markGone(): void {
    this.state = 'idle';
  }

  /**
   * Starts `script`: raw REPL with a soft reset (a clean VM, as run-multitests.py does before every
   * start), then sends it without waiting for its result. Errors: the REPL's (`TIMEOUT`, `LINK_GONE`…).
   */
  async start(script: string, signal?: AbortSignal): Promise<void> {
    const { repl } = this.current;
    const io = { timeoutMs: this.timings.startTimeoutMs, ...(signal ? { signal } : {}) };
    await repl.enterRawRepl({ softReset: true, ...io });
    await repl.execNoFollow(script, io);
    this.lines = new InstanceLineReader(repl.reader, this.clock);
    this.state = 'running';
    this.logger.debug({ instance: this.index, boardId: this.current.endpoint.boardId }, 'multitest instance started');
  }

  /**
   * The next event of the running program; `timeout` when no line is complete by `deadline` (absolute,
   * on the clock). After `finished` the instance is no longer running.
   */
  async next(deadline: number, signal?: AbortSignal): Promise<InstanceEvent> {
    const lines = this.requireStarted();
    const piece = await lines.nextPiece(deadline, signal);
    if (piece === 'timeout') return { kind: 'timeout' };
    if (piece.end === 'line') {
      this.logger.trace({ instance: this.index, line: piece.text }, 'multitest line');
      return { kind: 'line', text: piece.text };
    }
    const traceback = await lines.untilEot(this.clock.now() + this.timings.tracebackTimeoutMs, signal);
    this.state = 'ended';
    this.logger.debug({ instance: this.index, traceback: traceback.text }, 'multitest instance finished');
    return { kind: 'finished', lastText: piece.text, traceback: traceback.text };
  }

  /** Writes `line` and `\r\n` to the program's stdin (how BROADCAST lines reach `multitest.wait`). */
  async send(line: string): Promise<void> {
    const { link } = this.current;
    try {
      await link.write(utf8(`${line}\r\n`));
    } catch (err: unknown) {
      if (err instanceof HilError) throw err;
      throw new HilError('LINK_GONE', `writing to ${link.url} failed (multitest: relay to instance${this.index})`,
        this.current.repl.reader.evidence('multitest: relay'), { cause: err });
    }
  }

  /**
   * Follows the reboot the program announced with `multitest.expect_reboot`: reads lines until the
   * friendly banner (hard reset, deep sleep) — or, going beyond run-multitests.py, until the raw REPL
   * banner after a clean `SystemExit` (`machine.soft_reset()`) — then re-enters the raw REPL with a soft
   * reset. A board whose link vanishes is opened again when a reconnector was given. `extraMs` extends
   * both waits (the `delay_ms` of the request).
   */
  async awaitReboot(extraMs: number, signal?: AbortSignal): Promise<RebootOutcome> {
    const lines = this.requireStarted();
    const startedAt = this.clock.now();
    const { rebootInitialTimeoutMs: initialMs, rebootFullTimeoutMs: fullMs } = this.timings;
    let sawOutput = false;
    let softRebooting = false;
    let how: 'hard' | 'soft' | 'reconnected';
    for (;;) {
      const deadline = startedAt + (sawOutput ? fullMs : initialMs) + extraMs;
      let piece;
      try {
        piece = await lines.nextPiece(deadline, signal);
      } catch (err: unknown) {
        if (!isHilError(err, 'LINK_GONE') || this.reconnect === undefined) throw err;
        this.logger.info({ instance: this.index, boardId: this.current.endpoint.boardId }, 'link gone during reboot; reconnecting');
        this.current = await this.reconnect(this.current, signal);
        how = 'reconnected';
        break;
      }
      if (piece === 'timeout') {
        this.state = 'idle';
        return { rebooted: false, reason: sawOutput ? `no MicroPython banner within ${fullMs + extraMs} ms` : `no output within ${initialMs + extraMs} ms` };
      }
      if (piece.end === 'eot') {
        const traceback = await lines.untilEot(this.clock.now() + fullMs, signal);
        if (traceback.text !== '') {
          this.state = 'ended';
          return { rebooted: false, reason: `the program raised instead of rebooting:\n${traceback.text}` };
        }
        // A clean end after the announcement: SystemExit, so the VM soft-resets and stays in the raw REPL.
        softRebooting = true;
        sawOutput = true;
        continue;
      }
      if (piece.text !== '') sawOutput = true;
      if (BOOT_BANNER.test(piece.text)) { how = 'hard'; break; }
      if (softRebooting && RAW_BANNER_LINE.test(piece.text)) { how = 'soft'; break; }
    }
    this.state = 'idle';
    this.logger.info({ instance: this.index, boardId: this.current.endpoint.boardId, how }, 'multitest instance rebooted');
    try {
      await sleep(this.clock, AFTER_BANNER_MS, signal);
    } catch (reason: unknown) {
      throw new HilError('ABORTED', 'cancelled while a board rebooted', this.current.repl.reader.evidence('multitest: reboot'), { cause: reason });
    }
    return { rebooted: true, how };
  }

  /**
   * Stops the program and waits for an idle raw prompt, so the board is ready for the next test. A
   * running program is interrupted (`\r\x03`, as run-multitests.py does) and followed to the end of its
   * KeyboardInterrupt traceback; one that ended, or is ending, on its own is followed to its prompt —
   * after `SystemExit` the board soft-reboots and prints the raw banner by itself, which must not be
   * taken for the answer to a later Ctrl-A. Then the REPL client resynchronises (Ctrl-C, Ctrl-A).
   * Errors: the REPL's.
   */
  async stop(): Promise<void> {
    const lines = this.lines;
    const deadline = this.clock.now() + this.timings.stopTimeoutMs;
    if (lines !== undefined && this.state === 'running') {
      try {
        await this.current.link.write(HostBytes.interrupt);
        this.state = 'ending';
      } catch {
        // The REPL client's own interrupt below reports a link that is gone.
      }
    }
    if (lines !== undefined && this.state === 'ending') {
      for (let piece = await lines.nextPiece(deadline); piece !== 'timeout'; piece = await lines.nextPiece(deadline)) {
        if (piece.end === 'eot') {
          if ((await lines.untilEot(deadline)).complete) this.state = 'ended';
          break;
        }
      }
    }
    if (lines !== undefined && this.state === 'ended') await lines.awaitIdlePrompt(deadline);
    this.state = 'idle';
    this.lines = undefined;
    await this.current.repl.interrupt({ timeoutMs: this.timings.stopTimeoutMs });
  }

  private requireStarted(): InstanceLineReader {
    if (this.lines === undefined) throw new Error(`multitest instance${this.index} was not started`);
    return this.lines;
  }
}
