/**
 * The simulated UART receive interrupt, run on the host's thread for every byte the serial host
 * sends: when the byte is MicroPython's armed interrupt character (Ctrl-C while code runs, or what
 * `micropython.kbd_intr()` set), it schedules `KeyboardInterrupt` in the running VM instead of
 * queueing the byte — as ports/esp32/uart.c and the TinyUSB CDC receive callback do on hardware.
 *
 * It runs MicroPython's own compiled `mp_hal_get_interrupt_char` and `mp_sched_keyboard_interrupt`
 * against the VM's shared memory (see `wasm-leaf-function.ts`), so even a busy loop that never
 * leaves WebAssembly sees the exception at its next branch.
 */
import { WasmLeafFunction } from './wasm-leaf-function.ts';
import type { InterruptFunctionBodies } from './wasm-interpreter.ts';

/** What the worker hands over after each VM load. */
export interface KeyboardInterruptWiring {
  memory: WebAssembly.Memory;
  bodies: InterruptFunctionBodies;
}

/** The interrupt path into one VM instance. */
export class KeyboardInterruptLine {
  readonly #memory: WebAssembly.Memory;
  readonly #getInterruptChar: WasmLeafFunction;
  readonly #scheduleKeyboardInterrupt: WasmLeafFunction;

  /** Throws RangeError when the function bodies are not simple leaf functions. */
  constructor(wiring: KeyboardInterruptWiring) {
    this.#memory = wiring.memory;
    this.#getInterruptChar = WasmLeafFunction.compile(wiring.bodies.getInterruptChar);
    this.#scheduleKeyboardInterrupt = WasmLeafFunction.compile(wiring.bodies.scheduleKeyboardInterrupt);
  }

  /** The armed interrupt character (-1 when none, e.g. while the REPL waits for input). */
  interruptChar(): number {
    return this.#getInterruptChar.run(this.#memory) ?? -1;
  }

  /**
   * Handles one received byte: returns true (and schedules `KeyboardInterrupt`) when it is the armed
   * interrupt character, false when it is ordinary input.
   */
  receive(byte: number): boolean {
    if (byte !== this.interruptChar()) return false;
    this.#scheduleKeyboardInterrupt.run(this.#memory);
    return true;
  }
}
