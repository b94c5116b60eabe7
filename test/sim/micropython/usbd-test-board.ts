/**
 * Test support for the board side of `machine.USBDevice`: a {@link BoardUsbPort} fake that records the
 * firmware's messages on a timeline shared with the console output (so tests can check which the host
 * thread saw first) and injects controller events, and a board in the raw REPL wired to it.
 * Waits have deadlines; nothing asserts how long anything took.
 */
import type { BoardUsbPort, UsbdFirmwareEvent, UsbdFirmwareMessage } from '../../../sim/usbd/board-usb-port.ts';
import { encodeFsImage, type FsImageEntry } from '../../../sim/micropython/fs-image.ts';
import type { BoardHardware, FirmwareIdentity } from '../../../sim/micropython/micropython-host.ts';
import { WasmMicroPythonHost } from '../../../sim/micropython/wasm-micropython-host.ts';
import { FIRMWARE, MemoryFilesystemStore } from './host-harness.ts';
import { RawReplTestConsole } from './raw-repl-test-console.ts';

const EXPECT_TIMEOUT_MS = 10_000;

/** What the host thread saw, in order. */
export type TimelineEntry =
  | { kind: 'usb'; message: UsbdFirmwareMessage }
  | { kind: 'console'; text: string }
  | { kind: 'attach' }
  | { kind: 'detach' };

/** Resolves waiters whenever something is appended. */
class Timeline {
  readonly entries: TimelineEntry[] = [];
  #waiters: (() => void)[] = [];

  push(entry: TimelineEntry): void {
    this.entries.push(entry);
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Waits until `done()` holds, rejecting with `describe()` after the deadline. */
  async until(done: () => boolean, describe: () => string, timeoutMs = EXPECT_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out: ${describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/** A controller stand-in: records messages, injects events. */
export class FakeUsbPort implements BoardUsbPort {
  readonly timeline = new Timeline();
  #sink: ((event: UsbdFirmwareEvent) => void) | null = null;

  attachFirmware(sink: (event: UsbdFirmwareEvent) => void): () => void {
    this.#sink = sink;
    this.timeline.push({ kind: 'attach' });
    return () => {
      if (this.#sink === sink) this.#sink = null;
      this.timeline.push({ kind: 'detach' });
    };
  }

  fromFirmware(message: UsbdFirmwareMessage): void {
    this.timeline.push({ kind: 'usb', message });
  }

  /** Sends an event to the attached firmware. */
  inject(event: UsbdFirmwareEvent): void {
    if (this.#sink === null) throw new Error('no firmware attached');
    this.#sink(event);
  }

  /** The firmware's messages so far, from the `from`-th on (see {@link mark}). */
  messages(from = 0): UsbdFirmwareMessage[] {
    return this.timeline.entries.flatMap((entry) => (entry.kind === 'usb' ? [entry.message] : [])).slice(from);
  }

  /** How many messages have arrived: pass it to {@link messages} to see only what comes after. */
  mark(): number {
    return this.messages().length;
  }

  /** Waits for the `count`-th message (counting from 1) matching `match` among all messages so far. */
  async waitFor(match: (message: UsbdFirmwareMessage) => boolean, count = 1): Promise<UsbdFirmwareMessage> {
    let found: UsbdFirmwareMessage | undefined;
    await this.timeline.until(
      () => {
        found = this.messages().filter(match)[count - 1];
        return found !== undefined;
      },
      () => `USB message #${count}; got ${JSON.stringify(this.messages().map((m) => m.kind))}`,
    );
    if (found === undefined) throw new Error('unreachable');
    return found;
  }

  /** Waits for the reply to stage `stage` of control transfer `id`. */
  async controlReply(id: number, stage: 1 | 2 | 3): Promise<Extract<UsbdFirmwareMessage, { kind: 'control-reply' }>> {
    const reply = await this.waitFor((m) => m.kind === 'control-reply' && m.id === id && m.stage === stage);
    if (reply.kind !== 'control-reply') throw new Error('unreachable');
    return reply;
  }
}

/** Options of {@link UsbdTestBoard.boot}. */
export interface UsbdTestBoardOptions {
  /** Files on the board by path (`boot.py`, `lib/x.py` …; folders are created). */
  files?: Record<string, string>;
  firmware?: FirmwareIdentity;
  chip?: BoardHardware['chip'];
  /** The board's USB port; null: none (default: a fresh {@link FakeUsbPort}). */
  port?: FakeUsbPort | null;
}

/** A started board in the raw REPL. */
export class UsbdTestBoard extends RawReplTestConsole {
  readonly host: WasmMicroPythonHost;
  readonly port: FakeUsbPort | null;
  /** Console output and USB messages as the host thread saw them. */
  readonly timeline: Timeline;
  #received = '';

  private constructor(host: WasmMicroPythonHost, port: FakeUsbPort | null) {
    super();
    this.host = host;
    this.port = port;
    this.timeline = port?.timeline ?? new Timeline();
    host.onOutput((chunk) => {
      const text = Buffer.from(chunk).toString('latin1');
      this.#received += text;
      this.timeline.push({ kind: 'console', text });
    });
  }

  /** Starts a board, reads up to the friendly prompt and enters the raw REPL. */
  static async boot(options: UsbdTestBoardOptions = {}): Promise<UsbdTestBoard> {
    const port = options.port === undefined ? new FakeUsbPort() : options.port;
    const entries: FsImageEntry[] = [];
    for (const [path, text] of Object.entries(options.files ?? { 'boot.py': '' })) {
      const parts = path.split('/');
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join('/');
        if (!entries.some((e) => e.kind === 'dir' && e.path === dir)) entries.push({ kind: 'dir', path: dir });
      }
      entries.push({ kind: 'file', path, data: new TextEncoder().encode(text) });
    }
    const host = new WasmMicroPythonHost({
      boardId: 'usbd-test',
      hardware: { chip: options.chip ?? 'esp32s3', mac: Uint8Array.of(0x7c, 0xdf, 0xa1, 0x10, 0x20, 0x30), flashSizeBytes: 4 * 1024 * 1024, psramBytes: 0 },
      firmware: options.firmware ?? FIRMWARE,
      filesystem: new MemoryFilesystemStore(256 * 1024, encodeFsImage(entries)),
      ...(port === null ? {} : { usb: port }),
    });
    const board = new UsbdTestBoard(host, port);
    await host.start('power-on');
    await board.enterRawRepl();
    return board;
  }

  /** The port; throws when the board has none. */
  get usb(): FakeUsbPort {
    if (this.port === null) throw new Error('board has no USB port');
    return this.port;
  }

  send(text: string): void {
    this.host.input(Buffer.from(text, 'latin1'));
  }

  /** Waits until the console showed `pattern`; returns and consumes everything up to it. */
  async readUntil(pattern: string): Promise<string> {
    let at = -1;
    await this.timeline.until(
      () => {
        at = this.#received.indexOf(pattern);
        return at >= 0;
      },
      () => `waiting for ${JSON.stringify(pattern)}; received ${JSON.stringify(this.#received)}`,
    );
    const text = this.#received.slice(0, at + pattern.length);
    this.#received = this.#received.slice(at + pattern.length);
    return text;
  }

  /** Ctrl-D at the raw prompt: soft reset; resolves at the raw banner again. Returns the console text. */
  async softReset(): Promise<string> {
    this.send('\x04');
    return this.readUntil('raw REPL; CTRL-B to exit\r\n>');
  }

  async stop(): Promise<void> {
    await this.host.stop();
  }
}

/** Index in the timeline of the first entry (at or after `from`) matching `match`; -1 when none. */
export function timelineIndex(entries: readonly TimelineEntry[], match: (entry: TimelineEntry) => boolean, from = 0): number {
  for (let i = from; i < entries.length; i++) {
    const entry = entries[i];
    if (entry !== undefined && match(entry)) return i;
  }
  return -1;
}

/** Python source defining `until(cond)`: waits (sleeping, so USB callbacks run) until cond() is true. */
export const UNTIL_PY = [
  'import time',
  'def until(cond, ms=5000):',
  '    t = time.ticks_ms()',
  '    while not cond():',
  '        if time.ticks_diff(time.ticks_ms(), t) > ms:',
  '            raise OSError(110)',
  '        time.sleep_ms(1)',
].join('\n');
