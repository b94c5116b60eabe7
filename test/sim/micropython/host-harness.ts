/**
 * Test harness for {@link WasmMicroPythonHost}: an in-memory filesystem store, board/firmware
 * fixtures and a console reader that waits for patterns with a deadline (never asserting how long
 * anything took).
 */
import type { BoardFilesystemStore, BoardHardware, FirmwareIdentity, ResetCause } from '../../../sim/micropython/micropython-host.ts';
import { WasmMicroPythonHost, type WasmMicroPythonHostOptions } from '../../../sim/micropython/wasm-micropython-host.ts';

/** A {@link BoardFilesystemStore} in memory; counts writes. */
export class MemoryFilesystemStore implements BoardFilesystemStore {
  readonly capacityBytes: number;
  image: Uint8Array | null;
  writes = 0;

  constructor(capacityBytes = 2 * 1024 * 1024, image: Uint8Array | null = null) {
    this.capacityBytes = capacityBytes;
    this.image = image;
  }

  read(): Uint8Array | null {
    return this.image === null ? null : this.image.slice();
  }

  write(image: Uint8Array): void {
    if (image.length > this.capacityBytes) throw new RangeError('image does not fit');
    this.image = image.slice();
    this.writes++;
  }
}

export const FIRMWARE: FirmwareIdentity = {
  version: 'v1.24.1',
  buildDate: '2024-11-29',
  boardName: 'Generic ESP32S3 module',
  mcuName: 'ESP32S3',
};

export const BANNER = 'MicroPython v1.24.1 on 2024-11-29; Generic ESP32S3 module with ESP32S3\r\nType "help()" for more information.\r\n>>> ';

export const S3_HARDWARE: BoardHardware = {
  chip: 'esp32s3',
  mac: Uint8Array.of(0x7c, 0xdf, 0xa1, 0x10, 0x20, 0x30),
  flashSizeBytes: 8 * 1024 * 1024,
  psramBytes: 8 * 1024 * 1024,
};

export const ESP32_HARDWARE: BoardHardware = {
  chip: 'esp32',
  mac: Uint8Array.of(0x24, 0x0a, 0xc4, 0x01, 0x02, 0x03),
  flashSizeBytes: 4 * 1024 * 1024,
  psramBytes: 0,
};

/** Default deadline for one console expectation. */
const EXPECT_TIMEOUT_MS = 10_000;

/** A started host plus a console reader. */
export class HostHarness {
  readonly host: WasmMicroPythonHost;
  readonly store: MemoryFilesystemStore;
  readonly resetRequests: ('hard' | 'bootloader')[] = [];
  #received = '';
  #waiters: (() => void)[] = [];

  private constructor(host: WasmMicroPythonHost, store: MemoryFilesystemStore) {
    this.host = host;
    this.store = store;
    host.onOutput((chunk) => {
      this.#received += Buffer.from(chunk).toString('latin1');
      for (const wake of this.#waiters.splice(0)) wake();
    });
    host.onResetRequest((kind) => this.resetRequests.push(kind));
  }

  /** Creates a host (not started). */
  static create(options: Partial<WasmMicroPythonHostOptions> & { store?: MemoryFilesystemStore } = {}): HostHarness {
    const store = options.store ?? new MemoryFilesystemStore();
    const host = new WasmMicroPythonHost({
      boardId: options.boardId ?? 'test-board',
      hardware: options.hardware ?? S3_HARDWARE,
      firmware: options.firmware ?? FIRMWARE,
      filesystem: store,
      ...(options.extraModules === undefined ? {} : { extraModules: options.extraModules }),
    });
    return new HostHarness(host, store);
  }

  /** Creates and starts a host, then reads up to the first friendly prompt. Returns the boot output. */
  static async boot(options: Parameters<typeof HostHarness.create>[0] = {}, cause: ResetCause = 'power-on'): Promise<{ harness: HostHarness; bootOutput: string }> {
    const harness = HostHarness.create(options);
    await harness.host.start(cause);
    const bootOutput = await harness.readUntil('>>> ');
    return { harness, bootOutput };
  }

  /** Sends text (latin1: one char = one byte) or bytes to the board. */
  send(data: string | Uint8Array): void {
    this.host.input(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Everything received and not yet consumed. */
  get pending(): string {
    return this.#received;
  }

  /**
   * Waits until the console has shown `pattern`; returns (and consumes) everything up to and
   * including it. Rejects with what arrived when `timeoutMs` passes first.
   */
  async readUntil(pattern: string | RegExp, timeoutMs = EXPECT_TIMEOUT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = matchEnd(this.#received, pattern);
      if (end >= 0) {
        const text = this.#received.slice(0, end);
        this.#received = this.#received.slice(end);
        return text;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out waiting for ${JSON.stringify(String(pattern))}; received ${JSON.stringify(this.#received)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Enters the raw REPL from the friendly prompt the way mpremote does (§1.3, without soft reset). */
  async enterRawRepl(): Promise<void> {
    this.send('\r\x03');
    this.send('\r\x01');
    await this.readUntil('raw REPL; CTRL-B to exit\r\n>');
  }

  /** Classic raw-mode exec (§1.4): returns the stdout and stderr parts; consumes the trailing `>`. */
  async execRaw(code: string): Promise<{ stdout: string; stderr: string }> {
    this.send(`${code}\x04`);
    const ok = await this.readUntil('OK');
    if (ok !== 'OK') throw new Error(`expected OK, got ${JSON.stringify(ok)}`);
    const stdout = (await this.readUntil('\x04')).slice(0, -1);
    const stderr = (await this.readUntil('\x04')).slice(0, -1);
    await this.readUntil('>');
    return { stdout, stderr };
  }

  async stop(): Promise<void> {
    await this.host.stop();
  }
}

function matchEnd(text: string, pattern: string | RegExp): number {
  if (typeof pattern === 'string') {
    const at = text.indexOf(pattern);
    return at < 0 ? -1 : at + pattern.length;
  }
  const match = pattern.exec(text);
  return match === null ? -1 : match.index + match[0].length;
}
