/**
 * A fake MicroPython host for board tests: records how the board drives it, prints a banner like the
 * real interpreter and echoes input. Lets tests request `machine.reset()` / `machine.bootloader()`.
 */
import type { MicroPythonHost, ResetCause } from '../../../sim/micropython/micropython-host.ts';
import type { BoardHostOptions } from '../../../sim/board/sim-board.ts';

export class FakeMicroPythonHost implements MicroPythonHost {
  readonly options: BoardHostOptions;
  readonly startCauses: ResetCause[] = [];
  readonly inputs: string[] = [];
  stopCount = 0;
  readonly #output = new Set<(chunk: Uint8Array) => void>();
  readonly #reset = new Set<(kind: 'hard' | 'bootloader') => void>();

  constructor(options: BoardHostOptions) {
    this.options = options;
  }

  async start(cause: ResetCause): Promise<void> {
    this.startCauses.push(cause);
    const fw = this.options.firmware;
    this.print(`MicroPython ${fw.version} on ${fw.buildDate}; ${fw.boardName} with ${fw.mcuName}\r\nType "help()" for more information.\r\n>>> `);
  }

  input(data: Uint8Array): void {
    const text = new TextDecoder().decode(data);
    this.inputs.push(text);
    this.print(text);
  }

  onOutput(listener: (chunk: Uint8Array) => void): () => void {
    this.#output.add(listener);
    return () => this.#output.delete(listener);
  }

  onResetRequest(listener: (kind: 'hard' | 'bootloader') => void): () => void {
    this.#reset.add(listener);
    return () => this.#reset.delete(listener);
  }

  async stop(): Promise<void> {
    this.stopCount++;
  }

  /** Emits console output as the interpreter would. */
  print(text: string): void {
    const bytes = new TextEncoder().encode(text);
    for (const l of this.#output) l(bytes);
  }

  /** Simulates `machine.reset()` (`hard`) or `machine.bootloader()`. */
  requestReset(kind: 'hard' | 'bootloader'): void {
    for (const l of this.#reset) l(kind);
  }
}

/** A factory that remembers every host it created. */
export function fakeHostFactory(): { hosts: FakeMicroPythonHost[]; create: (options: BoardHostOptions) => FakeMicroPythonHost } {
  const hosts: FakeMicroPythonHost[] = [];
  return {
    hosts,
    create: (options) => {
      const host = new FakeMicroPythonHost(options);
      hosts.push(host);
      return host;
    },
  };
}
