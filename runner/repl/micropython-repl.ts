/**
 * Host-side MicroPython REPL client: raw REPL entry, exec/eval with raw-paste (falling back to classic
 * raw mode), soft reset, interrupt and file transfer, over any {@link SerialLink}. Behaviour follows
 * /work/shared/reference/micropython-host-protocols.md §1–§4 (mpremote's transport), re-implemented.
 *
 * Prompt convention: unlike mpremote, which leaves the raw prompt `>` unread until the next command,
 * this client always consumes it. Whenever {@link MicroPythonRepl.state} is `raw`, the board is at an
 * idle raw prompt whose `>` has been read. This lets exec tell the ordinary `>` after the result
 * framing from a soft reboot (`SystemExit`), and makes stale bytes at the start of a command a sign of
 * trouble worth discarding rather than part of the next reply.
 */
import type { Logger } from 'pino';
import { HilError, isHilError } from '../errors.ts';
import type { SerialLink } from '../link/serial-link.ts';
import { BoardExceptionError } from './board-exception-error.ts';
import { BoardFiles, type FileTransferOptions } from './board-files.ts';
import { ByteReader } from './byte-reader.ts';
import { concatBytes, decodeUtf8, escapeBytes, utf8 } from './byte-text.ts';
import { systemClock, type Clock } from './clock.ts';
import { parsePythonLiteral, type PythonValue } from './python-literal.ts';
import { readFraming, sendClassic, sendRawPaste, stepOptions, writeBytes, type WireContext } from './raw-exec-wire.ts';
import { BoardBytes, DEFAULT_TIMEOUT_MS, HostBytes } from './raw-repl-bytes.ts';
import type { DirEntry, ExecOptions, ExecResult, PythonExecutor, ReplState } from './repl-types.ts';

/** The logger methods the client uses (a pino logger fits). */
export type ReplLogger = Pick<Logger, 'trace' | 'debug' | 'info' | 'warn'>;

/** Options of {@link MicroPythonRepl}. */
export interface MicroPythonReplOptions {
  /** For logs and error evidence. */
  boardId?: string;
  /** For logs and error evidence. */
  portPath?: string;
  /** Serial traffic at `trace`, mode changes at `debug`/`info`. */
  logger?: ReplLogger;
  /** Time source for deadlines and durations. Default: the process clock. */
  clock?: Clock;
  /** Deadline of each operation when the caller gives none. Default 10 000 ms (mpremote). */
  defaultTimeoutMs?: number;
  /** Size of the console transcript. Default 256 KiB. */
  transcriptBytes?: number;
  /** Set false to never try raw-paste (always classic raw mode). Default true. */
  rawPaste?: boolean;
}

/** Options of {@link MicroPythonRepl.enterRawRepl}. */
export interface EnterRawReplOptions {
  /** Soft-reset after entering (mpremote does on a connection's first command). Default false. */
  softReset?: boolean;
  /** Deadline of each of the waits (mpremote: 10 s each). Default: the client's default. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The REPL client for one board. Operations are queued, so concurrent calls never interleave. */
export class MicroPythonRepl implements PythonExecutor {
  /** The reader over the link; its `transcript` is everything the board printed (bounded). */
  readonly reader: ByteReader;
  private readonly clock: Clock;
  private readonly defaultTimeoutMs: number;
  /** File helpers run their round trips through the unqueued exec, inside one queued operation. */
  private readonly files = new BoardFiles({ execOrThrow: (code, options) => this.execNowOrThrow(code, options ?? {}) });
  private currentState: ReplState = 'unknown';
  /** undefined = not tried yet, true = works, false = refused once (classic for the rest of the connection). */
  private rawPasteWorks: boolean | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly link: SerialLink,
    private readonly options: MicroPythonReplOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (options.rawPaste === false) this.rawPasteWorks = false;
    const readerOptions: ConstructorParameters<typeof ByteReader>[1] = { clock: this.clock };
    if (options.boardId !== undefined) readerOptions.boardId = options.boardId;
    if (options.portPath !== undefined) readerOptions.portPath = options.portPath;
    if (options.transcriptBytes !== undefined) readerOptions.transcriptBytes = options.transcriptBytes;
    this.reader = new ByteReader(link, readerOptions);
  }

  /** Where the client believes the board is (see {@link ReplState}). */
  get state(): ReplState {
    return this.reader.isGone ? 'gone' : this.currentState;
  }

  /** Whether raw-paste is in use: undefined until the first exec, false after the board refused it. */
  get rawPasteSupported(): boolean | undefined {
    return this.rawPasteWorks;
  }

  /** Everything the board printed so far (bounded), decoded as UTF-8. */
  consoleText(): string {
    return this.reader.transcript.text();
  }

  /**
   * Enters the raw REPL (§1.3): `\r\x03`, drain, `\r\x01`, wait for the banner and `>`; with
   * `softReset`, then `\x04`, wait for `soft reboot\r\n` and the banner again. Garbage before the banner
   * is skipped. Returns the boot output printed during the soft reset (empty without one).
   * Errors: `TIMEOUT`, `LINK_GONE`, `ABORTED`.
   */
  enterRawRepl(options: EnterRawReplOptions = {}): Promise<{ bootOutput: string }> {
    return this.serialised(async () => {
      const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
      await this.enterRaw(timeoutMs, options.signal);
      if (!options.softReset) return { bootOutput: '' };
      return { bootOutput: await this.softResetAtPrompt(timeoutMs, options.signal) };
    });
  }

  /**
   * Executes `code` and returns what it printed. A Python exception is a board-side result: it comes
   * back in `stderr`, it is not thrown. Enters the raw REPL first when not in it (without soft reset).
   * Errors: `TIMEOUT`, `LINK_GONE` (also when the link vanishes mid-exec), `REPL_PROTOCOL`, `ABORTED`.
   */
  exec(code: string, options: ExecOptions = {}): Promise<ExecResult> {
    return this.serialised(() => this.execNow(code, options));
  }

  /**
   * Sends `code` for execution without waiting for its result, as mpremote's `reset` does: for code
   * that resets the board (`machine.reset()`), whose framing may never arrive. Leaves `state` unknown.
   */
  execNoFollow(code: string, options: Omit<ExecOptions, 'idleTimeoutMs'> = {}): Promise<void> {
    return this.serialised(async () => {
      const ctx = this.context(options.timeoutMs ?? this.defaultTimeoutMs, options.signal);
      if (this.currentState !== 'raw') await this.enterRaw(ctx.deadline - this.clock.now(), options.signal);
      this.reader.readAvailable();
      this.currentState = 'unknown';
      await this.send(ctx, utf8(code), true);
    });
  }

  /**
   * Waits for the board to finish booting after a reset: a friendly banner
   * (`MicroPython vX.Y.Z… on …; … with …`, the pattern run-multitests.py uses) followed by `>>> `.
   * Returns everything printed from the call to the prompt (ROM banner, bootloader log, boot.py output).
   * Errors: `TIMEOUT` (with the console tail as evidence), `LINK_GONE`, `ABORTED`.
   */
  waitForBoot(options: Omit<ExecOptions, 'idleTimeoutMs'> = {}): Promise<string> {
    return this.serialised(async () => {
      const ctx = this.context(options.timeoutMs ?? this.defaultTimeoutMs, options.signal);
      this.currentState = 'unknown';
      const seen: Uint8Array[] = [];
      for (;;) {
        seen.push(await this.reader.readUntil(BoardBytes.friendlyPrompt, stepOptions(ctx, 'wait for boot: banner and prompt')));
        const text = decodeUtf8(concatBytes(seen));
        if (BOOT_BANNER.test(text)) {
          this.currentState = 'friendly';
          return text;
        }
      }
    });
  }

  /** Like {@link exec}, but a non-empty stderr throws {@link BoardExceptionError}. */
  execOrThrow(code: string, options: ExecOptions = {}): Promise<ExecResult> {
    return this.serialised(() => this.execNowOrThrow(code, options));
  }

  /**
   * Evaluates `expression` as mpremote's `eval` does (`print(expression)`) and returns the printed text
   * without its final line end. Throws {@link BoardExceptionError} on a traceback.
   */
  async eval(expression: string, options: ExecOptions = {}): Promise<string> {
    const result = await this.execOrThrow(`print(${expression})`, options);
    return result.stdout.replace(/\r?\n$/, '');
  }

  /** Evaluates `repr(expression)` on the board and parses it (None, bool, int, float, str, bytes, tuple, list). */
  async evalLiteral(expression: string, options: ExecOptions = {}): Promise<PythonValue> {
    const text = await this.eval(`repr(${expression})`, options);
    try {
      return parsePythonLiteral(text);
    } catch (err: unknown) {
      throw new HilError('REPL_PROTOCOL', `cannot parse repr of ${expression}: ${text.slice(0, 200)}`, this.reader.evidence('eval'), {
        cause: err,
      });
    }
  }

  /**
   * Soft-resets from the raw REPL (§2.1): `\x04` at an empty prompt; the board answers `OK\r\n`,
   * `MPY: soft reboot\r\n`, boot output and the raw banner. Returns the boot output. The board stays
   * in the raw REPL. With `via`, the reset is triggered by executing that code instead of Ctrl-D
   * (`machine.soft_reset()`, `raise SystemExit`: a forced exit of the raw REPL's program, §1.5).
   * Errors: `TIMEOUT`, `LINK_GONE` (a board with a runtime USB device drops off, §2.4).
   */
  softReset(options: Omit<ExecOptions, 'idleTimeoutMs'> & { via?: string } = {}): Promise<string> {
    return this.serialised(async () => {
      const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
      if (this.currentState !== 'raw') await this.enterRaw(timeoutMs, options.signal);
      return this.softResetAtPrompt(timeoutMs, options.signal, options.via);
    });
  }

  /**
   * Interrupts whatever runs on the board (`\r\x03`) and resynchronises at an idle raw prompt (the
   * same steps as entering the raw REPL). Operations are queued, so this runs after the current one:
   * to stop a long `exec`, abort its signal (or let its deadline pass) and then call `interrupt()`.
   */
  interrupt(options: Omit<ExecOptions, 'idleTimeoutMs'> = {}): Promise<void> {
    return this.serialised(() => this.enterRaw(options.timeoutMs ?? this.defaultTimeoutMs, options.signal));
  }

  /** Leaves the raw REPL (`\r\x02`) and waits for the friendly prompt `>>> `. */
  exitRawRepl(options: Omit<ExecOptions, 'idleTimeoutMs'> = {}): Promise<void> {
    return this.serialised(async () => {
      const ctx = this.context(options.timeoutMs ?? this.defaultTimeoutMs, options.signal);
      this.currentState = 'unknown';
      await writeBytes(ctx, HostBytes.exitRaw, 'exit raw REPL');
      await this.reader.readUntil(BoardBytes.friendlyPrompt, stepOptions(ctx, 'exit raw REPL: friendly prompt'));
      this.currentState = 'friendly';
      this.options.logger?.debug({ boardId: this.options.boardId }, 'left raw REPL');
    });
  }

  /**
   * Writes a file on the board (chunks of `bytes` literals, §3.4), as one queued operation.
   * `timeoutMs` is per round trip. Board errors → {@link BoardExceptionError}.
   */
  putFile(path: string, data: Uint8Array, options?: FileTransferOptions): Promise<void> {
    return this.serialised(() => this.files.putFile(path, data, options));
  }

  /** Reads a file from the board. `timeoutMs` is per round trip. */
  getFile(path: string, options?: FileTransferOptions): Promise<Uint8Array> {
    return this.serialised(() => this.files.getFile(path, options));
  }

  /** Deletes a file on the board. */
  removeFile(path: string, options?: ExecOptions): Promise<void> {
    return this.serialised(() => this.files.removeFile(path, options));
  }

  /** Lists a directory on the board. */
  listDir(path: string, options?: ExecOptions): Promise<DirEntry[]> {
    return this.serialised(() => this.files.listDir(path, options));
  }

  /** SHA-256 of a file on the board, lowercase hex. */
  fileHash(path: string, options?: FileTransferOptions): Promise<string> {
    return this.serialised(() => this.files.fileHash(path, options));
  }

  /** Stops listening to the link (does not close it). Pending operations fail with `LINK_GONE`. */
  dispose(): void {
    this.reader.dispose();
  }

  private async execNow(code: string, options: ExecOptions): Promise<ExecResult> {
    const startedAt = this.clock.now();
    const ctx = this.context(options.timeoutMs ?? this.defaultTimeoutMs, options.signal, options.idleTimeoutMs);
    if (this.currentState !== 'raw') await this.enterRaw(ctx.deadline - this.clock.now(), options.signal);
    const stale = this.reader.readAvailable();
    if (stale.length > 0) {
      this.options.logger?.warn({ boardId: this.options.boardId, stale: escapeBytes(stale) }, 'discarding unexpected bytes at raw prompt');
    }
    this.currentState = 'unknown'; // until the prompt after the result is read
    const source = utf8(code);
    const transfer = await this.send(ctx, source);
    const framing = await readFraming(ctx);
    const { softRebooted, bootOutput } = await this.readPromptAfterResult(ctx);
    this.currentState = 'raw';
    return {
      stdout: decodeUtf8(framing.stdout),
      stderr: decodeUtf8(framing.stderr),
      softRebooted,
      bootOutput,
      transfer,
      durationMs: this.clock.now() - startedAt,
    };
  }

  private async execNowOrThrow(code: string, options: ExecOptions): Promise<ExecResult> {
    const result = await this.execNow(code, options);
    if (result.stderr.length > 0) throw this.boardException(result);
    return result;
  }

  private async send(ctx: WireContext, source: Uint8Array, boardMayVanish = false): Promise<ExecResult['transfer']> {
    if (this.rawPasteWorks !== false) {
      const outcome = await sendRawPaste(ctx, source, boardMayVanish);
      if (outcome.kind === 'sent') {
        if (this.rawPasteWorks === undefined) {
          this.options.logger?.debug({ boardId: this.options.boardId, windowBytes: outcome.windowBytes }, 'raw-paste accepted');
        }
        this.rawPasteWorks = true;
        return 'raw-paste';
      }
      this.rawPasteWorks = false;
      this.options.logger?.info({ boardId: this.options.boardId, reply: outcome.kind }, 'raw-paste not available; using classic raw mode');
    }
    await sendClassic(ctx, source);
    return 'classic';
  }

  /** After the framing: either the plain `>`, or a soft reboot caused by `SystemExit` (§1.5). */
  private async readPromptAfterResult(ctx: WireContext): Promise<{ softRebooted: boolean; bootOutput: string }> {
    const next = await this.reader.readExact(1, stepOptions(ctx, 'exec: prompt'));
    if (next[0] === BoardBytes.rawPrompt[0]) return { softRebooted: false, bootOutput: '' };
    const rest = await this.reader.readUntil(BoardBytes.rawBannerAndPrompt, stepOptions(ctx, 'exec: soft reboot after SystemExit'));
    const text = decodeUtf8(concatBytes([next, rest]).subarray(0, -BoardBytes.rawBannerAndPrompt.length));
    if (!text.includes('soft reboot')) {
      throw new HilError('REPL_PROTOCOL', 'expected `>` or a soft reboot after the result', this.reader.evidence('exec: prompt'));
    }
    this.options.logger?.info({ boardId: this.options.boardId }, 'board soft-rebooted after SystemExit');
    return { softRebooted: true, bootOutput: afterSoftRebootNotice(text) };
  }

  /**
   * §1.3 steps 1–3 and 5. Unlike mpremote, which tries once, the interrupt and Ctrl-A are sent again
   * every {@link RAW_ENTRY_RETRY_MS} until the overall deadline: a board that is still booting (its
   * REPL not yet reading the UART) or was busy printing drops them, and would otherwise never answer.
   */
  private async enterRaw(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    const ctx = this.context(timeoutMs, signal);
    this.currentState = 'unknown';
    for (let attempt = 1; ; attempt++) {
      await writeBytes(ctx, HostBytes.interrupt, 'enter raw REPL: interrupt');
      // §1.3 step 2: discard what is already here; late bytes are skipped by the banner match below.
      const drained = this.reader.drain();
      if (drained > 0) this.options.logger?.trace({ boardId: this.options.boardId, drained }, 'drained input');
      await writeBytes(ctx, HostBytes.enterRaw, 'enter raw REPL: Ctrl-A');
      const remainingMs = ctx.deadline - this.clock.now();
      const lastAttempt = remainingMs <= RAW_ENTRY_RETRY_MS;
      try {
        await this.reader.readUntil(BoardBytes.rawBannerAndPrompt, {
          ...stepOptions(ctx, 'enter raw REPL: banner'),
          timeoutMs: lastAttempt ? Math.max(remainingMs, 0) : RAW_ENTRY_RETRY_MS,
        });
        break;
      } catch (err: unknown) {
        if (lastAttempt && isHilError(err, 'TIMEOUT')) {
          throw new HilError('TIMEOUT', `board did not enter the raw REPL within ${timeoutMs} ms (${attempt} attempt(s) of Ctrl-C, Ctrl-A); ` +
            `last bytes: ${this.reader.lastBytesText(80)}`, { ...err.evidence, attempts: attempt }, { cause: err });
        }
        if (lastAttempt || !isHilError(err, 'TIMEOUT')) throw err;
        this.options.logger?.debug({ boardId: this.options.boardId, attempt }, 'no raw REPL banner yet; interrupting again');
      }
    }
    this.currentState = 'raw';
    this.options.logger?.debug({ boardId: this.options.boardId }, 'in raw REPL');
  }

  /** `\x04` at the idle raw prompt; each wait gets its own `timeoutMs` as mpremote (§1.3 step 4). */
  private async softResetAtPrompt(timeoutMs: number, signal: AbortSignal | undefined, via?: string): Promise<string> {
    this.currentState = 'unknown';
    let ctx = this.context(timeoutMs, signal);
    if (via === undefined) {
      await writeBytes(ctx, HostBytes.endOfInput, 'soft reset');
    } else {
      this.reader.readAvailable();
      await this.send(ctx, utf8(via), true);
    }
    await this.reader.readUntil(BoardBytes.softRebootTail, stepOptions(ctx, 'soft reset: reboot notice'));
    ctx = this.context(timeoutMs, signal);
    const boot = await this.reader.readUntil(BoardBytes.rawBannerAndPrompt, stepOptions(ctx, 'soft reset: banner'));
    this.currentState = 'raw';
    this.options.logger?.info({ boardId: this.options.boardId }, 'soft reset done');
    return decodeUtf8(boot.subarray(0, boot.length - BoardBytes.rawBannerAndPrompt.length));
  }

  private context(timeoutMs: number, signal?: AbortSignal, idleTimeoutMs?: number): WireContext {
    const ctx: WireContext = { link: this.link, reader: this.reader, clock: this.clock, deadline: this.clock.now() + timeoutMs };
    if (signal !== undefined) ctx.signal = signal;
    if (idleTimeoutMs !== undefined) ctx.idleTimeoutMs = idleTimeoutMs;
    const logger = this.options.logger;
    if (logger !== undefined) ctx.onWrite = (data) => logger.trace({ boardId: this.options.boardId, tx: escapeBytes(data) }, 'serial write');
    return ctx;
  }

  private boardException(result: ExecResult): BoardExceptionError {
    const evidence: Record<string, string> = {};
    if (this.options.boardId !== undefined) evidence.boardId = this.options.boardId;
    if (this.options.portPath !== undefined) evidence.portPath = this.options.portPath;
    return new BoardExceptionError(result.stderr, result.stdout, evidence);
  }

  /** Runs operations one at a time; a rig-side failure leaves `state` unknown so the next one resynchronises. */
  private serialised<T>(operation: () => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      try {
        return await operation();
      } catch (err: unknown) {
        // A Python exception is a complete, well-framed answer: the board is still at the raw prompt.
        if (!(err instanceof BoardExceptionError)) this.currentState = 'unknown';
        if (isHilError(err)) this.options.logger?.warn({ boardId: this.options.boardId, code: err.code, err }, 'REPL operation failed');
        throw err;
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

/** How long one attempt to enter the raw REPL waits for the banner before interrupting again. */
const RAW_ENTRY_RETRY_MS = 1000;

/** The friendly banner a booting MicroPython prints (the pattern run-multitests.py matches). */
const BOOT_BANNER = /MicroPython v\d+\.\d+\.\d+[^\r\n]* on [^\r\n]*; [^\r\n]* with [^\r\n]*\r?\n/;

/** Boot output is what follows the `soft reboot` notice line. */
function afterSoftRebootNotice(text: string): string {
  const marker = 'soft reboot\r\n';
  const at = text.indexOf(marker);
  return at < 0 ? text : text.slice(at + marker.length);
}
