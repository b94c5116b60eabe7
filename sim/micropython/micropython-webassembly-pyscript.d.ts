/**
 * Types for the parts of `@micropython/micropython-webassembly-pyscript` (1.28.0-6) the simulator
 * uses. The package ships JavaScript only; these declarations follow its `micropython.mjs`
 * (`loadMicroPython` and the emscripten runtime it exposes). Only `wasm-interpreter.ts` imports it.
 */
declare module '@micropython/micropython-webassembly-pyscript' {
  /** Options of `loadMicroPython`. */
  export interface LoadMicroPythonOptions {
    /** Path or URL of the `.wasm` file. */
    url?: string;
    /** Initial GC heap size in bytes (the pyscript build grows it on demand). */
    heapsize?: number;
    /** Python stack size in words. */
    pystack?: number;
    /** Called for stdin reads when given (creates `/dev/stdin` as a device over this callback). */
    stdin?: () => number | null | undefined;
    /** Output callback: with `linebuffer: false` it receives one byte per call. */
    stdout?: (data: Uint8Array) => void;
    stderr?: (data: Uint8Array) => void;
    linebuffer?: boolean;
  }

  /** Error thrown by `runPython` when Python raised. */
  export interface PythonError extends Error {
    name: 'PythonError';
    /** Python exception type name, e.g. `SystemExit`. */
    type: string;
  }

  /** The emscripten Module object (only members the simulator touches). */
  export interface EmscriptenModule {
    _mp_sched_keyboard_interrupt(): void;
    _mp_hal_get_interrupt_char(): number;
    HEAPU8: Uint8Array;
  }

  /** The interpreter handle `loadMicroPython` resolves to. */
  export interface MicroPythonInstance {
    _module: EmscriptenModule;
    /** The emscripten file system (MEMFS); typed by the caller. */
    FS: unknown;
    replInit(): void;
    /** Feeds one byte to the event-driven REPL; returns 256 (PYEXEC_FORCED_EXIT) to request a soft reset. */
    replProcessChar(byte: number): number;
    registerJsModule(name: string, module: object): void;
    runPython(code: string): unknown;
    pyimport(name: string): unknown;
  }

  export function loadMicroPython(options: LoadMicroPythonOptions): Promise<MicroPythonInstance>;
}
