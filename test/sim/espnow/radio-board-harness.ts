/**
 * A {@link WasmMicroPythonHost} wired to a radio port, with a console reader for the raw REPL
 * (deadlines on waits only, never assertions on how long anything took).
 */
import type { BoardRadioPort } from '../../../sim/micropython/board-radio-port.ts';
import type { BoardHardware, FirmwareIdentity } from '../../../sim/micropython/micropython-host.ts';
import { WasmMicroPythonHost } from '../../../sim/micropython/wasm-micropython-host.ts';
import { FIRMWARE, MemoryFilesystemStore } from '../micropython/host-harness.ts';
import { RawReplTestConsole } from '../micropython/raw-repl-test-console.ts';

const EXPECT_TIMEOUT_MS = 10_000;

/** Options of {@link RadioBoard.boot}. */
export interface RadioBoardOptions {
  mac: Uint8Array;
  radio?: BoardRadioPort;
  firmware?: FirmwareIdentity;
  chip?: BoardHardware['chip'];
}

/** A running board in the raw REPL. */
export class RadioBoard extends RawReplTestConsole {
  readonly host: WasmMicroPythonHost;
  #received = '';
  #waiters: (() => void)[] = [];

  private constructor(host: WasmMicroPythonHost) {
    super();
    this.host = host;
    host.onOutput((chunk) => {
      this.#received += Buffer.from(chunk).toString('latin1');
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  /** Starts a board and enters its raw REPL. */
  /** Boots one board per MAC on `medium`, side by side, and runs `setup` on each. */
  static async bootAll(medium: { createPort(): NonNullable<RadioBoardOptions['radio']> }, macs: readonly Uint8Array[], setup: string): Promise<RadioBoard[]> {
    const boards = await Promise.all(macs.map((mac) => RadioBoard.boot({ mac, radio: medium.createPort() })));
    await Promise.all(boards.map((board) => board.run(setup)));
    return boards;
  }

  static async boot(options: RadioBoardOptions): Promise<RadioBoard> {
    const host = new WasmMicroPythonHost({
      boardId: `radio-${Buffer.from(options.mac).toString('hex')}`,
      hardware: { chip: options.chip ?? 'esp32s3', mac: options.mac, flashSizeBytes: 4 * 1024 * 1024, psramBytes: 0 },
      firmware: options.firmware ?? FIRMWARE,
      filesystem: new MemoryFilesystemStore(256 * 1024),
      ...(options.radio === undefined ? {} : { radio: options.radio }),
    });
    const board = new RadioBoard(host);
    await host.start('power-on');
    await board.enterRawRepl();
    return board;
  }

  send(text: string): void {
    this.host.input(Buffer.from(text, 'latin1'));
  }

  /** Waits until the console showed `pattern`; returns and consumes everything up to it. */
  async readUntil(pattern: string, timeoutMs = EXPECT_TIMEOUT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.#received.indexOf(pattern);
      if (at >= 0) {
        const text = this.#received.slice(0, at + pattern.length);
        this.#received = this.#received.slice(at + pattern.length);
        return text;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out waiting for ${JSON.stringify(pattern)}; received ${JSON.stringify(this.#received)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async stop(): Promise<void> {
    await this.host.stop();
  }
}
