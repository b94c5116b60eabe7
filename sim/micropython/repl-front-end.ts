/**
 * The board's serial front-end in front of the VM's event-driven REPL: it feeds the serial host's
 * bytes to the real MicroPython REPL (shared/runtime/pyexec.c) one by one and adds what this
 * WebAssembly build lacks or does differently (micropython-host-protocols.md §1, §11):
 *
 * - raw-paste mode (`\x05A\x01`): the build's own implementation would block on a stdin it cannot
 *   read, so the handshake and flow control happen here and the collected source is then executed
 *   through the VM's raw REPL (its `OK` dropped: raw-paste sends none);
 * - Enter (`\r`, `\n`, `\r\n`) on an empty friendly line prints a fresh prompt (the build compiles
 *   the empty line and reports a SyntaxError); whether the line is empty is followed by
 *   {@link FriendlyLineTracker};
 * - banners name the flashed firmware and board instead of the WebAssembly build.
 *
 * It tracks the REPL mode (friendly/raw) so that a soft reset can come back in the same mode.
 */
import type { ConsoleOutput } from './console-output.ts';
import { FriendlyLineTracker } from './friendly-line-tracker.ts';
import { RawPasteReceiver, RAW_PASTE_CREDIT, rawPasteAcceptReply } from './raw-paste-receiver.ts';
import { PYEXEC_FORCED_EXIT, PythonException, type WasmInterpreter } from './wasm-interpreter.ts';
import { CTRL_A, CTRL_B, CTRL_C, CTRL_D, CTRL_E } from '../../runner/repl/raw-repl-bytes.ts';

/** REPL mode; survives soft resets. */
export type ReplMode = 'friendly' | 'raw';

/** What a received byte asks the board to do. */
export type ReplOutcome = 'soft-reset' | null;

const LF = 0x0a;
const CR = 0x0d;

/** The raw REPL banner (pyexec.c). */
export const RAW_REPL_BANNER = 'raw REPL; CTRL-B to exit\r\n';
const FRIENDLY_PROMPT = '>>> ';

/** Options of {@link ReplFrontEnd}. */
export interface ReplFrontEndOptions {
  vm: Pick<WasmInterpreter, 'replInit' | 'replProcessChar' | 'runPython' | 'callFunction'>;
  output: ConsoleOutput;
  mode: ReplMode;
  /** First banner line without line end, e.g. `MicroPython v1.24.1 on 2024-11-29; Generic ESP32S3 module with ESP32S3`. */
  bannerLine: string;
}

/** See the module note. */
export class ReplFrontEnd {
  readonly #vm: ReplFrontEndOptions['vm'];
  readonly #output: ConsoleOutput;
  readonly #bannerLine: string;
  #mode: ReplMode;
  #vmBannerLine: string | null = null;
  readonly #friendlyLine = new FriendlyLineTracker();
  /** The previous friendly-mode byte was a `\r` that this front-end answered itself (the VM never saw it). */
  #crIntercepted = false;
  #previousFriendlyByte = -1;
  /** The VM's raw-REPL line buffer: length and its first two bytes (enough to spot `\x05A`). */
  #rawLength = 0;
  #rawHead: number[] = [];
  #paste: RawPasteReceiver | null = null;

  constructor(options: ReplFrontEndOptions) {
    this.#vm = options.vm;
    this.#output = options.output;
    this.#mode = options.mode;
    this.#bannerLine = options.bannerLine;
  }

  /** Current REPL mode. */
  get mode(): ReplMode {
    return this.#mode;
  }

  /** Starts the VM's REPL and prints the friendly banner and prompt, or the raw banner and `>`. */
  start(): void {
    const text = latin1(this.#output.capture(() => this.#vm.replInit()));
    this.#vmBannerLine = /MicroPython [^\r\n]*/.exec(text)?.[0] ?? null;
    if (this.#mode === 'friendly') {
      // The event-driven REPL starts with "\r\n"; a board prints the banner straight after boot output.
      this.#output.fromVmText(this.#rebrand(text).replace(/^\r\n/, ''));
      this.#friendlyLine.reset();
    } else {
      this.#output.capture(() => this.#feed(CTRL_A));
      this.#output.fromVmText(`${RAW_REPL_BANNER}>`);
      this.#resetRawLine();
    }
  }

  /** Handles one byte from the serial host. */
  receive(byte: number): ReplOutcome {
    if (this.#paste !== null) return this.#receivePaste(this.#paste, byte);
    return this.#mode === 'raw' ? this.#receiveRaw(byte) : this.#receiveFriendly(byte);
  }

  #receiveFriendly(byte: number): ReplOutcome {
    const afterCr = this.#previousFriendlyByte === CR;
    const crIntercepted = this.#crIntercepted;
    this.#previousFriendlyByte = byte;
    this.#crIntercepted = false;
    // readline ends a line on `\r`, or on `\n` unless it completes a `\r\n`.
    if (byte === LF && afterCr && crIntercepted) return null;
    if ((byte === CR || (byte === LF && !afterCr)) && this.#friendlyLine.certainlyEmpty) {
      this.#output.fromVmText(`\r\n${FRIENDLY_PROMPT}`);
      this.#crIntercepted = byte === CR;
      return null;
    }
    const before = this.#output.rawCount;
    const forced = byte === CTRL_B ? this.#feedRebranded(byte) : this.#feed(byte);
    if (forced) return 'soft-reset';
    const printed = this.#output.rawCount - before;
    if (printed > 0 && this.#output.rawEndsWith(`${RAW_REPL_BANNER}>`)) {
      this.#mode = 'raw';
      this.#resetRawLine();
    } else if (printed >= FRIENDLY_PROMPT.length && this.#output.rawEndsWith(FRIENDLY_PROMPT)) {
      this.#friendlyLine.reset();
    } else {
      this.#friendlyLine.fed(byte, printed);
    }
    return null;
  }

  #receiveRaw(byte: number): ReplOutcome {
    if (byte === CTRL_A && this.#rawLength === 2 && this.#rawHead[0] === CTRL_E && this.#rawHead[1] === 0x41) {
      // `\x05A\x01`: raw-paste. Ctrl-C empties the VM's line buffer (it prints nothing in raw mode).
      this.#feed(CTRL_C);
      this.#resetRawLine();
      this.#output.emit(rawPasteAcceptReply());
      this.#paste = new RawPasteReceiver(() => this.#output.emit(Uint8Array.of(RAW_PASTE_CREDIT)));
      return null;
    }
    if (byte === CTRL_B) {
      const forced = this.#feedRebranded(byte);
      this.#mode = 'friendly';
      this.#friendlyLine.reset();
      this.#previousFriendlyByte = -1;
      return forced ? 'soft-reset' : null;
    }
    // Any other sub-command byte reaches the VM, which answers `R\x00` and `>` itself.
    const forced = this.#feed(byte);
    if (byte === CTRL_A || byte === CTRL_C || byte === CTRL_D) {
      this.#resetRawLine();
    } else {
      if (this.#rawHead.length < 2) this.#rawHead.push(byte);
      this.#rawLength++;
    }
    return forced ? 'soft-reset' : null;
  }

  #receivePaste(paste: RawPasteReceiver, byte: number): ReplOutcome {
    const progress = paste.push(byte);
    if (progress === 'more') return null;
    this.#paste = null;
    this.#output.emit('\x04'); // end of transfer, to the host
    if (progress === 'interrupted') {
      // The reader raises the VM's KeyboardInterrupt before anything was compiled: no traceback.
      this.#output.emit('\x04');
      this.#output.fromVmText('KeyboardInterrupt: \r\n');
      this.#output.emit('\x04>');
      return null;
    }
    return this.#executePaste(paste.source());
  }

  #executePaste(source: Uint8Array): ReplOutcome {
    if (source.length === 0) {
      this.#output.emit('\x04\x04>');
      return null;
    }
    if (source.some((b) => b >= CTRL_A && b <= CTRL_D)) return this.#executeDirectly(source);
    this.#output.dropNext(2); // the raw REPL's "OK"
    for (const byte of source) this.#feed(byte);
    return this.#feed(CTRL_D) ? 'soft-reset' : null;
  }

  /**
   * Source holding Ctrl-A..Ctrl-D bytes (inside string literals) cannot go through the raw REPL's
   * line buffer; it is run in `__main__` directly, with the same framing and interrupt handling.
   */
  #executeDirectly(source: Uint8Array): ReplOutcome {
    const code = new TextDecoder().decode(source);
    this.#vm.runPython("__import__('micropython').kbd_intr(3)");
    try {
      this.#vm.runPython(code);
      this.#output.emit('\x04\x04>');
      return null;
    } catch (err: unknown) {
      if (!(err instanceof PythonException)) throw err;
      if (err.pythonType === 'SystemExit') {
        this.#output.emit('\x04\x04');
        return 'soft-reset';
      }
      this.#output.emit('\x04');
      this.#output.fromVmText(err.traceback);
      this.#output.emit('\x04>');
      return null;
    } finally {
      this.#vm.runPython("__import__('micropython').kbd_intr(-1)");
      this.#vm.callFunction('_board_init', 'discard_pending_interrupt');
    }
  }

  /** Feeds a byte whose output may contain the VM's banner (Ctrl-B), printing this board's instead. */
  #feedRebranded(byte: number): boolean {
    let forced = false;
    const text = latin1(this.#output.capture(() => (forced = this.#feed(byte))));
    this.#output.fromVmText(this.#rebrand(text));
    return forced;
  }

  #feed(byte: number): boolean {
    return (this.#vm.replProcessChar(byte) & PYEXEC_FORCED_EXIT) !== 0;
  }

  #rebrand(text: string): string {
    return this.#vmBannerLine === null ? text : text.split(this.#vmBannerLine).join(this.#bannerLine);
  }

  #resetRawLine(): void {
    this.#rawLength = 0;
    this.#rawHead = [];
  }
}

function latin1(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return text;
}
