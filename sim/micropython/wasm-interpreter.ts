/**
 * The one adapter around `@micropython/micropython-webassembly-pyscript`: loads a fresh MicroPython
 * VM (real MicroPython compiled to WebAssembly) into the current thread, with three changes made at
 * instantiation time, none of them inside the interpreter's logic:
 *
 * - its linear memory is a *shared* `WebAssembly.Memory` (see `rewrite-to-shared-memory.ts`), so the
 *   host thread can raise `KeyboardInterrupt` in a busy loop the way a UART interrupt does;
 * - error numbers of its system calls are translated to the board's (see `wasi-errno.ts`);
 * - the bodies of `mp_hal_get_interrupt_char` and `mp_sched_keyboard_interrupt` are extracted for
 *   the host thread (see `wasm-leaf-function.ts`).
 *
 * Loading one VM takes ~10–20 ms once the module is compiled; the compiled module is kept by the
 * loader and reused for every soft reset.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadMicroPython, type PythonError } from '@micropython/micropython-webassembly-pyscript';
import type { EmscriptenFs } from './emscripten-fs.ts';
import { rewriteToSharedMemory, type SharedMemoryLimits } from './rewrite-to-shared-memory.ts';
import { translateSyscallErrnos } from './wasi-errno.ts';
import { exportedFunctionIndex, functionBody, readSections } from './wasm-binary.ts';

/** Return value of `replProcessChar` when the REPL asks for a soft reset (shared/runtime/pyexec.h). */
export const PYEXEC_FORCED_EXIT = 0x100;

/** A Python exception that escaped {@link WasmInterpreter.runPython}. */
export class PythonException extends Error {
  /** The Python exception type, e.g. `SystemExit`. */
  readonly pythonType: string;
  /** The formatted traceback as MicroPython prints it. */
  readonly traceback: string;

  constructor(pythonType: string, traceback: string) {
    super(`${pythonType} raised in the interpreter`);
    this.name = 'PythonException';
    this.pythonType = pythonType;
    this.traceback = traceback;
  }
}

/** Function bodies the host thread runs against the shared memory. */
export interface InterruptFunctionBodies {
  /** `int mp_hal_get_interrupt_char(void)`. */
  getInterruptChar: Uint8Array;
  /** `void mp_sched_keyboard_interrupt(void)`. */
  scheduleKeyboardInterrupt: Uint8Array;
}

/** One loaded VM. Single-threaded: call it only from the thread that loaded it. */
export interface WasmInterpreter {
  /** The VM's linear memory (shared; may be posted to other threads). */
  readonly memory: WebAssembly.Memory;
  /** The emscripten file system the VM's `VfsPosix` works on. */
  readonly fs: EmscriptenFs;
  /** Starts the event-driven REPL (prints the build's own banner and `>>> `). */
  replInit(): void;
  /** Feeds one byte to the REPL; returns {@link PYEXEC_FORCED_EXIT} to request a soft reset. */
  replProcessChar(byte: number): number;
  /** Makes a JS object importable from Python under `name`. */
  registerJsModule(name: string, module: object): void;
  /** Runs Python source in `__main__`. Throws {@link PythonException} when it raises. */
  runPython(code: string): unknown;
  /** Calls `module.name(...args)` (importing the module if needed) and returns its result converted to JS. */
  callFunction(module: string, name: string, ...args: (string | number)[]): unknown;
  /** The interrupt character currently armed (3 while code runs), or -1. */
  interruptChar(): number;
}

/** What {@link WasmInterpreterLoader.load} needs. */
export interface WasmInterpreterOptions {
  /** Initial GC heap in bytes. */
  heapBytes: number;
  /** Receives every byte the VM writes to stdout. */
  stdout: (byte: number) => void;
  /** Runs after each clock read of the VM (`mp_js_ticks_ms`): a safe point for the board's interrupts. */
  onClockRead?: () => void;
}

interface CompiledInterpreter {
  module: WebAssembly.Module;
  limits: SharedMemoryLimits;
  wasmPath: string;
  bodies: InterruptFunctionBodies;
}

type Instantiate = (source: unknown, imports: Record<string, Record<string, unknown>>) => Promise<unknown>;

/** Loads VMs; compiles the WebAssembly module once per loader. */
export class WasmInterpreterLoader {
  readonly #wasmPath: string;
  #compiled: CompiledInterpreter | null = null;

  /** @param wasmPath the package's standard `micropython.wasm` unless given */
  constructor(wasmPath?: string) {
    this.#wasmPath = wasmPath ?? createRequire(import.meta.url).resolve('@micropython/micropython-webassembly-pyscript/micropython.wasm');
  }

  /** Bodies of the interrupt functions (compiles the module on first use). */
  async interruptFunctionBodies(): Promise<InterruptFunctionBodies> {
    return (await this.#compile()).bodies;
  }

  /** Loads a fresh VM with its own memory and file system. */
  async load(options: WasmInterpreterOptions): Promise<WasmInterpreter> {
    const compiled = await this.#compile();
    const memory = new WebAssembly.Memory({
      initial: compiled.limits.initialPages,
      maximum: compiled.limits.maximumPages,
      shared: true,
    });
    // emscripten instantiates through the global `WebAssembly.instantiate`; for the duration of this
    // load, answer with the precompiled shared-memory module. Loads never overlap on one thread.
    const webAssembly = WebAssembly as unknown as { instantiate: Instantiate };
    const original = webAssembly.instantiate;
    webAssembly.instantiate = async (_source, imports) => {
      const env = imports.env ?? {};
      translateSyscallErrnos(env);
      if (imports.wasi_snapshot_preview1 !== undefined && imports.wasi_snapshot_preview1 !== env) {
        translateSyscallErrnos(imports.wasi_snapshot_preview1);
      }
      env.memory = memory;
      // Radio callbacks are scheduled at the board's safe points; a clock read is one, so a loop that
      // polls ticks_ms() sees an irq as it would on hardware (where the Wi-Fi task schedules it).
      const onClockRead = options.onClockRead;
      const ticksMs = env.mp_js_ticks_ms;
      if (onClockRead !== undefined && typeof ticksMs === 'function') {
        env.mp_js_ticks_ms = (...args: unknown[]) => {
          const value = (ticksMs as (...a: unknown[]) => unknown)(...args);
          onClockRead();
          return value;
        };
      }
      const instance = await original.call(WebAssembly, compiled.module, imports);
      return { instance, module: compiled.module };
    };
    let mp;
    try {
      mp = await loadMicroPython({
        url: compiled.wasmPath,
        heapsize: options.heapBytes,
        linebuffer: false,
        stdout: (data) => {
          for (const byte of data) options.stdout(byte);
        },
        // A device-backed /dev/stdin (rather than the TTY); `stdin-device.ts` replaces its read.
        stdin: () => null,
      });
    } finally {
      webAssembly.instantiate = original;
    }
    const instance = mp;
    const translate = <T>(fn: () => T): T => {
      try {
        return fn();
      } catch (err: unknown) {
        if (isPythonError(err)) throw new PythonException(err.type, err.message);
        throw err;
      }
    };
    return {
      memory,
      fs: instance.FS as EmscriptenFs,
      replInit: () => instance.replInit(),
      replProcessChar: (byte) => instance.replProcessChar(byte),
      registerJsModule: (name, module) => instance.registerJsModule(name, module),
      runPython: (code) => translate(() => instance.runPython(code)),
      callFunction: (module, name, ...args) =>
        translate(() => {
          const fn = (instance.pyimport(module) as Record<string, unknown>)[name];
          if (typeof fn !== 'function') throw new Error(`${module}.${name} is not callable`);
          return (fn as (...a: unknown[]) => unknown)(...args);
        }),
      interruptChar: () => instance._module._mp_hal_get_interrupt_char(),
    };
  }

  async #compile(): Promise<CompiledInterpreter> {
    if (this.#compiled !== null) return this.#compiled;
    const original = new Uint8Array(readFileSync(this.#wasmPath));
    const sections = readSections(original);
    const body = (name: string): Uint8Array => {
      const index = exportedFunctionIndex(sections, name);
      const code = index === undefined ? undefined : functionBody(sections, index);
      if (code === undefined) throw new Error(`MicroPython wasm does not export ${name}`);
      return code.slice();
    };
    const bodies = { getInterruptChar: body('mp_hal_get_interrupt_char'), scheduleKeyboardInterrupt: body('mp_sched_keyboard_interrupt') };
    const rewritten = rewriteToSharedMemory(original);
    const module = await WebAssembly.compile(rewritten.binary);
    this.#compiled = { module, limits: rewritten.limits, wasmPath: this.#wasmPath, bodies };
    return this.#compiled;
  }
}

function isPythonError(err: unknown): err is PythonError {
  return err instanceof Error && err.name === 'PythonError' && typeof (err as { type?: unknown }).type === 'string';
}
