/**
 * The board's console transmit path, in the worker: collects what the VM prints and what the REPL
 * front-end sends itself, makes it look like an ESP32's output and hands it on in coalesced chunks.
 *
 * What it changes in the VM's output, and why:
 * - `\n` not preceded by `\r` becomes `\r\n`: the board's stdout is "cooked" (mp_hal_stdout_tx_strn_cooked);
 *   the WebAssembly build prints bare `\n`.
 * - Traceback lines of the simulator's own Python board modules (`  File "/__board__/…`) are removed:
 *   on hardware `machine`, `time.sleep` and friends are native code and never appear in tracebacks.
 * - A front-end may drop the next N bytes (the `OK` the raw REPL prints, which raw-paste must not).
 *
 * Chunks go out at every line end (a program may print a line and then compute for a long time
 * without giving the worker another chance to send it), when the worker is about to wait (REPL
 * idle, sleep, stdin read), when 1 KiB is buffered, and when the oldest buffered byte is 20 ms old
 * and another arrives. Only a partial line printed just before such a computation waits.
 */

/** Path prefix under which board modules are compiled; their traceback lines are hidden. */
export const BOARD_MODULE_ROOT = '/__board__';

const HIDDEN_FRAME = `  File "${BOARD_MODULE_ROOT}/`;
const LF = 0x0a;
const CR = 0x0d;

/** Options of {@link ConsoleOutput}. */
export interface ConsoleOutputOptions {
  /** Receives coalesced chunks (ownership passes to the sink). */
  sink: (chunk: Uint8Array<ArrayBuffer>) => void;
  /** Flush once this many bytes are buffered. Default 1024. */
  flushBytes?: number;
  /** Flush output older than this while the VM keeps printing. Default 20 ms. */
  flushIntervalMs?: number;
}

type LineState = 'start' | 'pass' | 'drop';

/** See the module note. */
export class ConsoleOutput {
  readonly #sink: (chunk: Uint8Array<ArrayBuffer>) => void;
  readonly #flushBytes: number;
  readonly #flushIntervalMs: number;
  #buffer: Uint8Array<ArrayBuffer>;
  #length = 0;
  /** When the oldest byte still buffered arrived. */
  #oldestAt = 0;
  #lastEmitted = -1;
  #drop = 0;
  #lineState: LineState = 'start';
  #candidate: number[] = [];
  #capture: number[] | null = null;
  #rawCount = 0;
  #rawTail: number[] = [];

  constructor(options: ConsoleOutputOptions) {
    this.#sink = options.sink;
    this.#flushBytes = options.flushBytes ?? 1024;
    this.#flushIntervalMs = options.flushIntervalMs ?? 20;
    this.#buffer = new Uint8Array(this.#flushBytes * 2);
  }

  /** Total bytes the VM has printed (before any change); lets the front-end tell whether a step printed. */
  get rawCount(): number {
    return this.#rawCount;
  }

  /** True when the VM's most recent output ends with `text` (ASCII). */
  rawEndsWith(text: string): boolean {
    if (text.length > this.#rawTail.length) return false;
    const offset = this.#rawTail.length - text.length;
    for (let i = 0; i < text.length; i++) if (this.#rawTail[offset + i] !== text.charCodeAt(i)) return false;
    return true;
  }

  /** One byte from the VM's stdout. */
  fromVm(byte: number): void {
    this.#rawCount++;
    this.#rawTail.push(byte);
    if (this.#rawTail.length > 32) this.#rawTail.shift();
    if (this.#capture !== null) {
      this.#capture.push(byte);
      return;
    }
    if (this.#drop > 0) {
      this.#drop--;
      return;
    }
    this.#filterFrame(byte);
  }

  /** Text the front-end produced that should look like VM output (banners); gets the same changes. */
  fromVmText(text: string): void {
    for (let i = 0; i < text.length; i++) this.#filterFrame(text.charCodeAt(i) & 0xff);
  }

  /** Protocol bytes the front-end sends itself, verbatim (e.g. raw-paste `R\x01\x80\x00\x01`). */
  emit(bytes: Uint8Array | string): void {
    this.#releaseCandidate();
    const data = typeof bytes === 'string' ? Uint8Array.from(bytes, (c) => c.charCodeAt(0) & 0xff) : bytes;
    for (const byte of data) this.#push(byte);
  }

  /** Drops the next `count` bytes the VM prints. */
  dropNext(count: number): void {
    this.#drop += count;
  }

  /** Runs `fn` and returns what the VM printed meanwhile, unchanged and not sent. */
  capture(fn: () => void): Uint8Array {
    const previous = this.#capture;
    const captured: number[] = [];
    this.#capture = captured;
    try {
      fn();
    } finally {
      this.#capture = previous;
    }
    return Uint8Array.from(captured);
  }

  /**
   * Sends what is buffered. `settle` also releases a held-back partial line (use it when the VM is
   * idle; mid-run flushes keep it so a hidden traceback line is never cut in two).
   */
  flush(settle = true): void {
    if (settle) this.#releaseCandidate();
    if (this.#length === 0) return;
    const chunk = this.#buffer.slice(0, this.#length);
    this.#length = 0;
    this.#sink(chunk);
  }

  #filterFrame(byte: number): void {
    if (this.#lineState === 'drop') {
      if (byte === LF) this.#lineState = 'start';
      return;
    }
    if (this.#lineState === 'pass') {
      this.#cook(byte);
      if (byte === LF) this.#lineState = 'start';
      return;
    }
    this.#candidate.push(byte);
    const n = this.#candidate.length;
    if (HIDDEN_FRAME.charCodeAt(n - 1) === byte) {
      if (n === HIDDEN_FRAME.length) {
        this.#candidate = [];
        this.#lineState = 'drop';
      }
      return;
    }
    this.#releaseCandidate();
  }

  #releaseCandidate(): void {
    if (this.#candidate.length === 0) return;
    const held = this.#candidate;
    this.#candidate = [];
    for (const b of held) this.#cook(b);
    this.#lineState = held[held.length - 1] === LF ? 'start' : 'pass';
  }

  #cook(byte: number): void {
    if (byte === LF && this.#lastEmitted !== CR) this.#push(CR);
    this.#push(byte);
  }

  #push(byte: number): void {
    if (this.#length === this.#buffer.length) {
      const bigger = new Uint8Array(this.#buffer.length * 2);
      bigger.set(this.#buffer);
      this.#buffer = bigger;
    }
    if (this.#length === 0) this.#oldestAt = performance.now();
    this.#buffer[this.#length++] = byte;
    this.#lastEmitted = byte;
    if (this.#length >= this.#flushBytes) {
      this.flush(false);
      return;
    }
    const now = performance.now();
    // A completed line goes out unless output is streaming fast: a program may print a line and then
    // compute for a long time without giving the worker another chance to send it.
    if (byte === LF || now - this.#oldestAt >= this.#flushIntervalMs) this.flush(false);
  }
}
