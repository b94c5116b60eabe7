/**
 * The multitest engine: runs one MicroPython multi-instance test file on N connected boards with the
 * protocol of MicroPython's `tests/run-multitests.py`, so upstream `multi_net`/`multi_espnow`-style
 * tests run unchanged (/work/shared/reference/micropython-host-protocols.md §6):
 *
 * - phase 1 starts the instances one after another; each runs until it prints `NEXT` (or ends), and
 *   its `SET` lines become globals of the instances started after it; `SKIP` skips the test;
 * - phase 2 reads every running instance concurrently, relays `BROADCAST` lines to the others' stdin,
 *   collects `OUTPUT_METRIC` data and follows reboots announced with `WAIT_FOR_REBOOT`;
 * - an instance silent for the instance timeout gets `TIMEOUT` in its output; a traceback is recorded;
 *   either ends the run, and the combined output is then compared with the `.exp` file.
 *
 * Rig problems (a board that stops answering, an unannounced reboot) give an `error` verdict with the
 * board's console as evidence; the boards are always interrupted back to an idle raw prompt at the end.
 */
import { HilError } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { systemClock, type Clock } from '../repl/clock.ts';
import { BoardInstance, type BoardReconnector, type InstanceEvent, type InstanceTimings, type MultitestBoard } from './board-instance.ts';
import { isIgnoredOutput, isRebootMarker, metricData, parseRebootRequest } from './control-lines.ts';
import { detectHostIp } from './host-ip.ts';
import { globalAssignment, hostIpAssignment, instanceScript } from './instance-script.ts';
import type { MultitestFile } from './multitest-file.ts';
import { combinedOutput, judgeOutput, type MultitestResult } from './multitest-result.ts';

/** Options of {@link runMultitest}. Times in milliseconds. */
export interface RunMultitestOptions {
  logger?: Logger;
  /** Time source; use the clock the boards' REPL clients use. Default: the process clock. */
  clock?: Clock;
  /** Aborting ends the run with an `error` verdict (`ABORTED`) after stopping the boards. */
  signal?: AbortSignal;
  /** An instance that completes no line for this long gets `TIMEOUT` (run-multitests.py: 10 s). Default 10 000. */
  instanceTimeoutMs?: number;
  /** Entering the raw REPL with a soft reset and sending the script, per instance start. Default 15 000. */
  startTimeoutMs?: number;
  /** Reboot wait: first output (run-multitests.py: 1 s). Default 1000. */
  rebootInitialTimeoutMs?: number;
  /** Reboot wait: the banner (run-multitests.py: 5 s). Default 5000. */
  rebootFullTimeoutMs?: number;
  /** Getting each board back to an idle raw prompt at the end. Default 5000. */
  stopTimeoutMs?: number;
  /** The host IP injected as `HOST_IP` into files that use `get_network_ip`. Default: {@link detectHostIp}. */
  hostIp?: () => Promise<string>;
  /** Opens a board again when its link vanished during an announced reboot; without it that is an error. */
  reconnect?: BoardReconnector;
  /** Every line an instance prints, as it arrives (run-multitests.py `-c` trace). */
  onLine?: (line: { instance: number; boardId: string; text: string; atMs: number }) => void;
}

const DEFAULTS = {
  instanceTimeoutMs: 10_000,
  startTimeoutMs: 15_000,
  rebootInitialTimeoutMs: 1000,
  rebootFullTimeoutMs: 5000,
  stopTimeoutMs: 5000,
} as const;

/** How long the boot output of an unannounced reboot is collected as evidence before stopping. */
const REBOOT_EVIDENCE_QUIET_MS = 300;
const REBOOT_EVIDENCE_MAX_MS = 3000;
/** Console lines kept as evidence of an unannounced reboot (an ESP32 boot log is about 35). */
const REBOOT_EVIDENCE_LINES = 60;

/**
 * Runs `file` with instance i on `boards[i]` (extra boards are not used).
 * Throws `NOT_ENOUGH_BOARDS` (bad input) before touching any board when there are fewer boards than
 * instances. Everything that happens on the boards is reported in the result, never thrown — except
 * programming errors.
 */
export async function runMultitest(file: MultitestFile, boards: readonly MultitestBoard[], options: RunMultitestOptions = {}): Promise<MultitestResult> {
  if (boards.length < file.instanceCount) {
    throw new HilError('NOT_ENOUGH_BOARDS', `${file.name} has ${file.instanceCount} instances but only ${boards.length} board(s) were given`,
      { file: file.path, needed: file.instanceCount, available: boards.length });
  }
  return new MultitestRun(file, boards.slice(0, file.instanceCount), options).run();
}

/** What a pending read of phase 2 settled with. */
type ReadOutcome = { index: number; event?: InstanceEvent; error?: unknown };
/** A pending read of one instance in phase 2; it never rejects, so nobody misses a failure. */
type PendingRead = { promise: Promise<ReadOutcome>; abort: AbortController; outcome?: ReadOutcome };

/**
 * run-multitests.py polls its instances every 0.1 s and gives `TIMEOUT` to each one silent too long
 * in that sweep; instances whose deadline falls within one such step of the first get it as well.
 */
const POLL_STEP_MS = 100;

class MultitestRun {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly timeoutMs: number;
  private readonly instances: BoardInstance[];
  private readonly outputs: string[][];
  private readonly metrics: string[] = [];
  /** Evidence that is not part of the compared output (failed reboot waits, boards that did not stop). */
  private readonly notes: string[] = [];
  private readonly started = new Set<BoardInstance>();
  private injectedGlobals = '';
  /** A traceback or TIMEOUT ended the run (the comparison still decides the verdict). */
  private ended = false;
  private skippedBy: number | undefined;
  private startedAt = 0;

  constructor(private readonly file: MultitestFile, boards: readonly MultitestBoard[], private readonly options: RunMultitestOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger()).child({ multitest: file.name });
    this.timeoutMs = options.instanceTimeoutMs ?? DEFAULTS.instanceTimeoutMs;
    const timings: InstanceTimings = {
      startTimeoutMs: options.startTimeoutMs ?? DEFAULTS.startTimeoutMs,
      tracebackTimeoutMs: this.timeoutMs,
      rebootInitialTimeoutMs: options.rebootInitialTimeoutMs ?? DEFAULTS.rebootInitialTimeoutMs,
      rebootFullTimeoutMs: options.rebootFullTimeoutMs ?? DEFAULTS.rebootFullTimeoutMs,
      stopTimeoutMs: options.stopTimeoutMs ?? DEFAULTS.stopTimeoutMs,
    };
    this.instances = boards.map((board, index) => new BoardInstance(index, board, this.clock, timings,
      this.logger.child({ board: board.endpoint.boardId }), options.reconnect));
    this.outputs = boards.map(() => []);
  }

  async run(): Promise<MultitestResult> {
    this.startedAt = this.clock.now();
    let failure: unknown;
    try {
      if (this.file.source.includes('get_network_ip')) {
        this.injectedGlobals = hostIpAssignment(this.file.source, await (this.options.hostIp ?? detectHostIp)());
      }
      await this.startInstances();
      if (!this.ended && this.skippedBy === undefined) await this.runToCompletion();
    } catch (err: unknown) {
      failure = err;
    } finally {
      await this.stopAll();
    }
    if (failure !== undefined && !(failure instanceof HilError)) throw failure;
    return this.result(failure);
  }

  /** Phase 1 (§6.5): start instance by instance; each runs until `NEXT`, `SKIP`, its end or an error. */
  private async startInstances(): Promise<void> {
    for (const instance of this.instances) {
      this.started.add(instance);
      await instance.start(this.script(`instance${instance.index}`), this.options.signal);
      let lastLineAt = this.clock.now();
      while (instance.running) {
        const event = await instance.next(lastLineAt + this.timeoutMs, this.options.signal);
        if (event.kind === 'timeout') {
          this.record(instance, 'TIMEOUT');
          this.ended = true;
          break;
        }
        lastLineAt = this.clock.now();
        const text = event.kind === 'line' ? event.text : event.lastText;
        if (event.kind === 'finished' && text === '' && event.traceback === '') break;
        if (!isIgnoredOutput(text)) {
          await this.checkNotRebooted(instance, text);
          this.trace(instance, text);
          if (text.startsWith('SET ')) {
            this.injectedGlobals += globalAssignment(text);
          } else if (text === 'SKIP') {
            this.skippedBy = instance.index;
            instance.markEnding();
            break;
          } else if (text === 'NEXT') {
            break;
          } else {
            this.record(instance, text);
          }
        }
        if (event.kind === 'finished') this.recordTraceback(instance, event.traceback);
      }
      if (this.ended || this.skippedBy !== undefined) return;
    }
  }

  /** Phase 2 (§6.6): read all running instances until every one ended, or one went silent or raised. */
  private async runToCompletion(): Promise<void> {
    const lastLineAt = this.instances.map(() => this.clock.now());
    const reads = new Map<number, PendingRead>();
    // Instances whose end has not been handled yet (a pending read may already hold it).
    const live = new Set(this.instances.filter((instance) => instance.running));
    try {
      while (!this.ended && live.size > 0) {
        for (const instance of live) {
          if (!reads.has(instance.index)) reads.set(instance.index, this.read(instance, lastLineAt[instance.index]! + this.timeoutMs));
        }
        const settled = await Promise.race([...reads.values()].map((read) => read.promise));
        reads.delete(settled.index);
        if (settled.error !== undefined) throw settled.error;
        const instance = this.instances[settled.index]!;
        const event = settled.event!;
        if (event.kind === 'timeout') {
          this.record(instance, 'TIMEOUT');
          this.recordOtherSilentInstances(reads, lastLineAt);
          this.ended = true;
          break;
        }
        lastLineAt[instance.index] = this.clock.now();
        if (event.kind === 'line') {
          await this.handleRunningLine(instance, event.text, lastLineAt);
          continue;
        }
        live.delete(instance);
        if (event.lastText !== '' || event.traceback !== '') {
          await this.handleRunningLine(instance, event.lastText, lastLineAt);
          this.recordTraceback(instance, event.traceback);
        }
      }
    } finally {
      // Reads of other instances must end before the boards are interrupted (one reader per board).
      for (const read of reads.values()) read.abort.abort();
      await Promise.all([...reads.values()].map((read) => read.promise));
    }
  }

  private read(instance: BoardInstance, deadline: number): PendingRead {
    const abort = new AbortController();
    const signal = this.options.signal ? AbortSignal.any([this.options.signal, abort.signal]) : abort.signal;
    const read: PendingRead = { abort, promise: Promise.resolve({ index: instance.index }) };
    read.promise = instance.next(deadline, signal).then(
      (event) => (read.outcome = { index: instance.index, event }),
      (error: unknown) => (read.outcome = { index: instance.index, error }),
    );
    return read;
  }

  /** After one instance timed out: every other one that has been silent as long gets `TIMEOUT` too. */
  private recordOtherSilentInstances(reads: ReadonlyMap<number, PendingRead>, lastLineAt: readonly number[]): void {
    const now = this.clock.now();
    for (const [index, read] of reads) {
      const { event } = read.outcome ?? {};
      const silent = event === undefined ? now + POLL_STEP_MS >= lastLineAt[index]! + this.timeoutMs : event.kind === 'timeout';
      if (silent && read.outcome?.error === undefined) this.record(this.instances[index]!, 'TIMEOUT');
    }
  }

  /** A line in phase 2: reboot requests, broadcasts and metrics are acted on; other lines recorded. */
  private async handleRunningLine(instance: BoardInstance, text: string, lastLineAt: number[]): Promise<void> {
    if (isIgnoredOutput(text)) return;
    await this.checkNotRebooted(instance, text);
    this.trace(instance, text);
    if (text.startsWith('BROADCAST ')) {
      for (const other of this.instances) {
        // Only running programs read stdin; bytes sent to an idle raw prompt would only pile up there.
        if (other !== instance && other.running) await other.send(text);
      }
    } else if (text.startsWith('OUTPUT_METRIC ')) {
      this.metrics.push(metricData(text));
    } else {
      this.record(instance, text);
    }
    if (text.startsWith('WAIT_FOR_REBOOT')) {
      await this.followReboot(instance, text);
      lastLineAt[instance.index] = this.clock.now();
    }
  }

  /** `WAIT_FOR_REBOOT <resume> <delay_ms>`: wait for the reboot, then start `<resume>()` on that board. */
  private async followReboot(instance: BoardInstance, text: string): Promise<void> {
    const request = parseRebootRequest(text);
    if (request === undefined || !request.resume.startsWith(`instance${instance.index}`)) {
      throw new HilError('SUITE_INVALID', `${this.file.name}: instance${instance.index} printed "${text}"; multitest.expect_reboot needs ` +
        `the name of a function that starts with "instance${instance.index}" and a delay in ms`, { file: this.file.path, instance: instance.index });
    }
    const outcome = await instance.awaitReboot(request.delayMs, this.options.signal);
    if (!outcome.rebooted) {
      // run-multitests.py gives up on the instance, which then times out: say so at once.
      this.notes.push(`instance${instance.index} announced a reboot that did not happen: ${outcome.reason}`);
      this.record(instance, 'TIMEOUT');
      this.ended = true;
      return;
    }
    this.notes.push(`instance${instance.index} rebooted (${outcome.how}) and resumed with ${request.resume}()`);
    await instance.start(this.script(request.resume), this.options.signal);
  }

  /** An unannounced reboot is a rig problem (power, brown-out, crash): error with the boot log as evidence. */
  private async checkNotRebooted(instance: BoardInstance, text: string): Promise<void> {
    if (!isRebootMarker(text)) return;
    instance.markGone();
    const { reader } = instance.board.repl;
    try {
      await reader.waitForQuiet(REBOOT_EVIDENCE_QUIET_MS, { timeoutMs: REBOOT_EVIDENCE_MAX_MS });
    } catch {
      // A board that keeps talking (boot loop) is evidence enough as it is.
    }
    const lines = this.outputs[instance.index]!;
    const hint = lines[lines.length - 1]?.startsWith('WAIT_FOR_REBOOT') ? ' (multitest.expect_reboot is followed only after multitest.next())' : '';
    const { boardId } = instance.board.endpoint;
    const evidence = reader.evidence(`multitest ${this.file.name}: instance${instance.index}`, { instance: instance.index, line: text });
    // The whole boot log, not only the last few lines: the reset reason sits at its top.
    evidence.consoleTail = instance.board.repl.consoleText().split(/\r?\n/).slice(-REBOOT_EVIDENCE_LINES).join('\n');
    throw new HilError('BOARD_REBOOTED', `board ${boardId} (instance${instance.index}) rebooted unexpectedly during ${this.file.name}: "${text}"${hint}`, evidence);
  }

  /** Stops every started instance, in parallel; a board that does not come back is noted, not thrown. */
  private async stopAll(): Promise<void> {
    await Promise.all([...this.started].map(async (instance) => {
      try {
        await instance.stop();
      } catch (err: unknown) {
        this.notes.push(`board ${instance.board.endpoint.boardId} (instance${instance.index}) did not return to the raw REPL after the test: ` +
          `${err instanceof Error ? err.message : String(err)}`);
      }
    }));
  }

  private script(entryPoint: string): string {
    return instanceScript(this.file.source, this.injectedGlobals, entryPoint);
  }

  private record(instance: BoardInstance, text: string): void {
    this.outputs[instance.index]!.push(text);
  }

  /** The stderr part of a finished program; recorded (even empty) and ending the run, as upstream does. */
  private recordTraceback(instance: BoardInstance, traceback: string): void {
    this.trace(instance, traceback);
    this.record(instance, traceback);
    this.ended = true;
  }

  private trace(instance: BoardInstance, text: string): void {
    this.options.onLine?.({ instance: instance.index, boardId: instance.board.endpoint.boardId, text, atMs: this.clock.now() - this.startedAt });
  }

  private result(failure: HilError | undefined): MultitestResult {
    const output = combinedOutput(this.outputs);
    const boardIds = this.instances.map((instance) => instance.board.endpoint.boardId);
    const properties: Record<string, string> = { 'multitest.instances': String(this.instances.length) };
    boardIds.forEach((boardId, index) => { properties[`instance${index}.board`] = boardId; });
    this.metrics.forEach((metric, index) => { properties[`metric.${index + 1}`] = metric; });
    const base = {
      file: this.file,
      testName: `${this.file.name} on ${boardIds.join('|')}`,
      instances: this.instances.map((instance) => ({ index: instance.index, boardId: instance.board.endpoint.boardId, lines: this.outputs[instance.index]!, board: instance.board })),
      output,
      metrics: this.metrics,
      properties,
      durationMs: this.clock.now() - this.startedAt,
    };
    const notes = this.notes.length > 0 ? `### NOTES ###\n${this.notes.join('\n')}\n` : '';
    if (failure !== undefined) {
      return { ...base, verdict: 'error', error: failure, message: `${failure.message} [${failure.code}]`, details: errorDetails(failure, output) + notes };
    }
    if (this.skippedBy !== undefined) {
      return { ...base, verdict: 'skip', message: `instance${this.skippedBy} printed SKIP`, ...(notes ? { details: notes } : {}) };
    }
    const judgement = judgeOutput(this.file, output, this.outputs);
    const details = (judgement.details ?? '') + notes;
    return {
      ...base,
      verdict: judgement.verdict,
      ...(judgement.message !== undefined ? { message: judgement.message } : {}),
      ...(judgement.diff !== undefined ? { diff: judgement.diff } : {}),
      ...(details !== '' ? { details } : {}),
    };
  }
}

function errorDetails(err: HilError, output: string): string {
  const { phase, consoleTail } = err.evidence;
  return [
    `code: ${err.code}`,
    typeof phase === 'string' ? `phase: ${phase}` : '',
    typeof consoleTail === 'string' ? `last console output:\n${consoleTail}` : '',
    `### OUTPUT SO FAR ###\n${output}`,
  ].filter(Boolean).join('\n');
}
