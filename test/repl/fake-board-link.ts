/**
 * A scripted, in-memory MicroPython board behind a SerialLink, for REPL client tests. It implements the
 * board side of the raw REPL byte-exactly as described in
 * /work/shared/reference/micropython-host-protocols.md §1.1–§1.6 and §2.1–§2.2 (friendly/raw modes,
 * banner and prompt, `OK`, result framing, raw-paste with a window and credit returned as bytes are
 * consumed, refusal, old firmware, early `\x04`, soft reset, SystemExit), written independently of the
 * client. Input is processed and output delivered on later macrotasks, like a socket.
 */
import { HilError } from '../../runner/errors.ts';
import type { SerialLink } from '../../runner/link/serial-link.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const RAW_BANNER = 'raw REPL; CTRL-B to exit\r\n';
const FRIENDLY_BANNER = 'MicroPython v1.24.1 on 2024-11-29; Generic ESP32S3 module with ESP32S3\r\nType "help()" for more information.\r\n';

/** What running a piece of code produced. */
export interface FakeRunResult {
  stdout?: string;
  stderr?: string;
  /** Ends with SystemExit: the board soft-resets after the framing (§1.5). */
  systemExit?: boolean;
  hang?: undefined;
  disconnect?: undefined;
}

/** `hang`: never finishes (until Ctrl-C). `disconnect`: prints `stdout` then the link vanishes. */
export type FakeRunOutcome =
  | FakeRunResult
  | { hang: true; stdout?: string; disconnect?: undefined }
  | { disconnect: true; stdout?: string; hang?: undefined };

export interface FakeBoardOptions {
  /** How the board answers `\x05A\x01`. Default `accept`. */
  rawPaste?: 'accept' | 'refuse' | 'unsupported';
  /** Raw-paste window in bytes (stdin buffer / 2). Default 128. */
  windowBytes?: number;
  /** Bytes the simulated compiler consumes per tick in raw-paste mode. Default 32. */
  consumeBytesPerTick?: number;
  /** Raw-paste: after consuming this many source bytes, stop early with a SyntaxError (§1.6). */
  earlyAbortAfterBytes?: number;
  /** Printed by boot.py on every soft reset. */
  bootOutput?: string;
  /** Deliver output in chunks of at most this many bytes (1 = byte by byte). Default: whole writes. */
  outputChunkBytes?: number;
  /** Starting mode. Default `friendly`. */
  initialMode?: 'friendly' | 'raw';
  /** Runs source code; default prints nothing. */
  run?: (code: string) => FakeRunOutcome;
}

type Mode = 'friendly' | 'raw' | 'paste' | 'paste-discard' | 'running' | 'gone';

const TRACEBACK_HEAD = 'Traceback (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\n';

/** A SerialLink whose far end is a fake MicroPython board. */
export class FakeBoardLink implements SerialLink {
  readonly url = 'fake://board';
  readonly baudRate = 115200;
  /** Every write from the host, as written. */
  readonly writes: Uint8Array[] = [];
  /** Raw-paste: the largest number of received-but-unconsumed bytes seen (must stay ≤ 2 windows). */
  maxUnconsumedBytes = 0;
  /** Source texts the board executed, in order, with how they arrived. */
  readonly executed: Array<{ code: string; via: 'raw-paste' | 'classic' }> = [];
  softResets = 0;

  private modeNow: Mode;
  private line: number[] = [];
  private pasteQueue: number[] = [];
  private pasteSource: number[] = [];
  private creditCounter = 0;
  private consuming = false;
  private readonly dataListeners = new Set<(chunk: Uint8Array) => void>();
  private readonly goneListeners = new Set<(err: Error) => void>();
  private readonly outQueue: Uint8Array[] = [];
  private pumping = false;
  private signalState = { dtr: true, rts: true };

  constructor(private readonly options: FakeBoardOptions = {}) {
    this.modeNow = options.initialMode ?? 'friendly';
  }

  get mode(): Mode {
    return this.modeNow;
  }

  get isOpen(): boolean {
    return this.modeNow !== 'gone';
  }

  get signals(): { dtr: boolean; rts: boolean } {
    return this.signalState;
  }

  /** All host writes concatenated. */
  hostBytes(): Uint8Array {
    return Uint8Array.from(this.writes.flatMap((w) => [...w]));
  }

  /** Sends arbitrary bytes to the host now (noise, boot logs). */
  emitRaw(data: Uint8Array | string): void {
    this.emit(typeof data === 'string' ? enc.encode(data) : data);
  }

  /** Makes the link vanish (USB unplug). */
  vanish(): void {
    if (this.modeNow === 'gone') return;
    this.modeNow = 'gone';
    const err = new Error('device disconnected');
    for (const listener of [...this.goneListeners]) listener(err);
  }

  async write(data: Uint8Array): Promise<void> {
    if (this.modeNow === 'gone') throw new HilError('LINK_GONE', 'fake link gone');
    const copy = data.slice();
    this.writes.push(copy);
    setImmediate(() => {
      for (const byte of copy) this.input(byte);
    });
  }

  onData(listener: (chunk: Uint8Array) => void): () => void {
    this.dataListeners.add(listener);
    return () => this.dataListeners.delete(listener);
  }

  onGone(listener: (err: Error) => void): () => void {
    this.goneListeners.add(listener);
    return () => this.goneListeners.delete(listener);
  }

  async setSignals(signals: { dtr?: boolean; rts?: boolean }): Promise<void> {
    this.signalState = { ...this.signalState, ...signals };
  }

  async setBaudRate(): Promise<void> {}

  async purgeInput(): Promise<void> {}

  async close(): Promise<void> {
    this.modeNow = 'gone';
  }

  private input(byte: number): void {
    switch (this.modeNow) {
      case 'friendly':
        return this.friendlyInput(byte);
      case 'raw':
        return this.rawInput(byte);
      case 'paste':
        this.pasteQueue.push(byte);
        this.maxUnconsumedBytes = Math.max(this.maxUnconsumedBytes, this.pasteQueue.length);
        return this.scheduleConsume();
      case 'paste-discard':
        if (byte === 0x03 || byte === 0x04) this.finishRun({ stderr: `${TRACEBACK_HEAD}SyntaxError: invalid syntax\r\n` });
        return;
      case 'running':
        if (byte === 0x03) this.finishRun({ stderr: `${TRACEBACK_HEAD}KeyboardInterrupt: \r\n` });
        return; // anything else is the program's stdin
      case 'gone':
        return;
    }
  }

  /** §1.1, friendly column. */
  private friendlyInput(byte: number): void {
    const empty = this.line.length === 0;
    if (byte === 0x0d) {
      this.line = [];
      this.emit('\r\n>>> ');
    } else if (byte === 0x01 && empty) {
      this.modeNow = 'raw';
      this.emit(`\r\n${RAW_BANNER}>`);
    } else if (byte === 0x02 && empty) {
      this.emit(`\r\n${FRIENDLY_BANNER}>>> `);
    } else if (byte === 0x03) {
      this.line = [];
      this.emit('\r\n>>> ');
    } else if (byte === 0x04 && empty) {
      this.softResets++;
      this.emit(`\r\nMPY: soft reboot\r\n${this.options.bootOutput ?? ''}${FRIENDLY_BANNER}>>> `);
    } else if (byte >= 0x20) {
      this.line.push(byte);
      this.emit(Uint8Array.of(byte));
    }
  }

  /** §1.1, raw column, and the raw-paste request of §1.6. */
  private rawInput(byte: number): void {
    if (byte === 0x01) {
      const request = this.line.length === 2 && this.line[0] === 0x05;
      const subCommand = this.line[1];
      this.line = [];
      const policy = this.options.rawPaste ?? 'accept';
      if (!request || policy === 'unsupported') {
        this.emit(`${RAW_BANNER}>`);
      } else if (policy === 'refuse' || subCommand !== 0x41) {
        this.emit(Uint8Array.of(0x52, 0x00, 0x3e));
      } else {
        const window = this.options.windowBytes ?? 128;
        this.modeNow = 'paste';
        this.pasteQueue = [];
        this.pasteSource = [];
        this.creditCounter = window;
        this.emit(Uint8Array.of(0x52, 0x01, window & 0xff, window >> 8, 0x01));
      }
    } else if (byte === 0x02) {
      this.line = [];
      this.modeNow = 'friendly';
      this.emit(`\r\n${FRIENDLY_BANNER}>>> `);
    } else if (byte === 0x03) {
      this.line = [];
    } else if (byte === 0x04) {
      if (this.line.length === 0) {
        this.emit('OK\r\n');
        this.softReset();
      } else {
        const code = dec.decode(Uint8Array.from(this.line));
        this.line = [];
        this.emit('OK');
        this.execute(code, 'classic');
      }
    } else {
      this.line.push(byte);
    }
  }

  /** Raw-paste consumer: pulls bytes like the lexer, returning a window of credit per window consumed. */
  private scheduleConsume(): void {
    if (this.consuming) return;
    this.consuming = true;
    setImmediate(() => {
      this.consuming = false;
      if (this.modeNow !== 'paste') return;
      const window = this.options.windowBytes ?? 128;
      let budget = this.options.consumeBytesPerTick ?? 32;
      while (budget-- > 0 && this.pasteQueue.length > 0 && this.modeNow === 'paste') {
        const byte = this.pasteQueue.shift() ?? 0;
        if (byte === 0x04 || byte === 0x03) {
          this.emit(Uint8Array.of(0x04));
          const code = dec.decode(Uint8Array.from(this.pasteSource));
          if (byte === 0x03) this.finishRun({ stderr: `${TRACEBACK_HEAD}KeyboardInterrupt: \r\n` });
          else this.execute(code, 'raw-paste');
          return;
        }
        this.pasteSource.push(byte);
        if (this.options.earlyAbortAfterBytes !== undefined && this.pasteSource.length >= this.options.earlyAbortAfterBytes) {
          this.modeNow = 'paste-discard';
          this.emit(Uint8Array.of(0x04));
          // Anything already queued is discarded too, but a Ctrl-C/D in it still ends the discard.
          const rest = this.pasteQueue.splice(0);
          for (const queued of rest) this.input(queued);
          return;
        }
        if (--this.creditCounter === 0) {
          this.creditCounter = window;
          this.emit(Uint8Array.of(0x01));
        }
      }
      if (this.pasteQueue.length > 0) this.scheduleConsume();
    });
  }

  private execute(code: string, via: 'raw-paste' | 'classic'): void {
    this.executed.push({ code, via });
    this.modeNow = 'running';
    const run: (source: string) => FakeRunOutcome = this.options.run ?? (() => ({}));
    const outcome = run(code);
    setImmediate(() => {
      if (outcome.hang === true) {
        if (outcome.stdout) this.emit(outcome.stdout);
      } else if (outcome.disconnect === true) {
        if (outcome.stdout) this.emit(outcome.stdout);
        this.afterOutput(() => this.vanish());
      } else {
        this.finishRun(outcome);
      }
    });
  }

  /** §1.5 framing, then the prompt or (SystemExit) a soft reset. */
  private finishRun(result: FakeRunResult): void {
    this.modeNow = 'raw';
    this.emit(`${result.stdout ?? ''}\x04${result.stderr ?? ''}\x04`);
    if (result.systemExit) this.softReset();
    else this.emit('>');
  }

  /** §2.1: `MPY: soft reboot`, boot output, raw banner and prompt; stays in raw mode. */
  private softReset(): void {
    this.softResets++;
    this.modeNow = 'raw';
    this.line = [];
    this.emit(`MPY: soft reboot\r\n${this.options.bootOutput ?? ''}${RAW_BANNER}>`);
  }

  private emit(data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? enc.encode(data) : data;
    const size = this.options.outputChunkBytes ?? bytes.length;
    for (let offset = 0; offset < bytes.length; offset += size) this.outQueue.push(bytes.slice(offset, offset + size));
    this.pump();
  }

  private afterOutput(action: () => void): void {
    this.outQueue.push(new Uint8Array(0));
    const marker = this.outQueue.at(-1);
    const check = (): void => {
      if (this.outQueue.includes(marker as Uint8Array)) setImmediate(check);
      else action();
    };
    setImmediate(check);
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    const step = (): void => {
      const chunk = this.outQueue.shift();
      if (chunk === undefined || this.modeNow === 'gone') {
        this.pumping = false;
        return;
      }
      if (chunk.length > 0) for (const listener of [...this.dataListeners]) listener(chunk);
      setImmediate(step);
    };
    setImmediate(step);
  }
}
