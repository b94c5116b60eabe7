/**
 * One life of the board's MicroPython VM, from power-on or soft reset to the next soft reset
 * (ports/esp32/main.c's soft-reset loop): load a fresh VM, mount the board filesystem as its root,
 * install the board modules, run what `_boot.py`, `boot.py` and `main.py` do, start the REPL and
 * feed it the serial host's bytes until the VM asks for a soft reset.
 *
 * Runs in the interpreter worker. Everything after the VM load is synchronous: while Python runs the
 * worker's thread is inside WebAssembly, and it waits for input with `Atomics.wait`.
 */
import { BOARD_MODULE_ROOT, type ConsoleOutput } from './console-output.ts';
import { BoardFilesystem, BOARD_FS_ROOT } from './board-filesystem.ts';
import { createBoardRuntimeModule, dispatchBoardIrqs, type BoardRuntimeState } from './board-runtime.ts';
import type { FsImageEntry } from './fs-image.ts';
import type { InputRing } from './input-ring.ts';
import type { BoardHardware, FirmwareIdentity, ResetCause } from './micropython-host.ts';
import { ReplFrontEnd, type ReplMode } from './repl-front-end.ts';
import { installBlockingStdin } from './stdin-device.ts';
import { PythonException, type WasmInterpreter, type WasmInterpreterLoader } from './wasm-interpreter.ts';
import type { WorkerMessage } from './worker-protocol.ts';

/** Initial GC heap of the VM (the build grows it on demand; `gc` reports the board's size). */
const VM_HEAP_BYTES = 1024 * 1024;
/** Emscripten directory holding the board modules while they are imported. */
const MODULE_STAGING_DIR = '/board-modules';

/** What stays the same across the sessions of one worker. */
export interface SessionContext {
  loader: WasmInterpreterLoader;
  ring: InputRing;
  output: ConsoleOutput;
  hardware: BoardHardware;
  firmware: FirmwareIdentity;
  fsCapacityBytes: number;
  state: BoardRuntimeState;
  /** Python sources: file name → source (board modules and extra modules). */
  moduleSources: ReadonlyMap<string, string>;
  /** Names of extra modules to import after the board modules. */
  extraModuleNames: readonly string[];
  post(message: WorkerMessage, transfer?: ArrayBuffer[]): void;
}

/** How one session starts. */
export interface SessionStart {
  cause: ResetCause;
  mode: ReplMode;
  entries: readonly FsImageEntry[];
  /** The store was blank: print what inisetup.py prints (the default boot.py is among `entries`). */
  freshFilesystem: boolean;
}

/** How one session ended: always with a soft reset (hard resets park the worker). */
export interface SessionEnd {
  mode: ReplMode;
  entries: FsImageEntry[];
}

/** Runs one session; resolves when the VM requests a soft reset. */
export async function runSession(context: SessionContext, start: SessionStart): Promise<SessionEnd> {
  const { ring, output } = context;
  const vm = await context.loader.load({
    heapBytes: VM_HEAP_BYTES,
    stdout: (byte) => output.fromVm(byte),
    onClockRead: () => dispatchBoardIrqs(context.state),
  });
  context.post({ type: 'interrupt-wiring', memory: vm.memory, bodies: await context.loader.interruptFunctionBodies() });

  const fs = new BoardFilesystem(vm.fs, context.fsCapacityBytes);
  fs.populate(start.entries);
  if (start.freshFilesystem) fs.markDirty();
  const persist = (): void => {
    if (!fs.dirty) return;
    const image = fs.snapshot();
    context.post({ type: 'fs-image', image }, [image.buffer]);
  };
  fs.install(persist);
  const beforeBlock = (): void => {
    output.flush();
    if (!fs.hasOpenWrites) persist();
  };
  installBlockingStdin(vm.fs, ring, beforeBlock);
  vm.registerJsModule(
    '_board_hw',
    createBoardRuntimeModule({
      hardware: context.hardware,
      firmware: context.firmware,
      resetCause: start.cause,
      state: context.state,
      ring,
      beforeBlock,
      requestReset: (kind) => {
        output.flush();
        persist();
        context.post({ type: 'reset-request', kind });
        return ring.parkForever();
      },
    }),
  );
  installBoardModules(vm, context);
  context.post({ type: 'booting' });

  const end = (mode: ReplMode): SessionEnd => {
    output.flush();
    persist();
    return { mode, entries: fs.entries() };
  };

  // _boot.py, then boot.py, then main.py in friendly mode (ports/esp32/main.c); USB connects after
  // boot.py (mp_usbd_init, before the forced-exit check as in the ports' main.c), so a runtime device
  // boot.py activated is what the host enumerates first (§2.3, §8.5).
  vm.callFunction('_board_init', 'boot_globals');
  if (start.freshFilesystem) output.fromVmText('Performing initial setup\n');
  const bootResult = runBootScript(vm, 'boot.py');
  output.flush();
  context.state.usb.initAfterBoot();
  if (bootResult === 'exit') return end(start.mode);
  if (start.mode === 'friendly' && bootResult !== 'error') {
    if (runBootScript(vm, 'main.py') === 'exit') return end(start.mode);
  }
  output.flush();
  persist();

  const repl = new ReplFrontEnd({ vm, output, mode: start.mode, bannerLine: bannerLine(context.firmware) });
  repl.start();
  output.flush();
  context.post({ type: 'ready' });

  for (;;) {
    const byte = ring.readByte();
    if (byte < 0) {
      // Idle: everything received so far is processed. ESP-NOW irq and USB device callbacks run here
      // as they do while the board waits for serial input; then send output, persist, sleep until the
      // doorbell (serial input, a radio frame or a USB event) rings.
      const bell = ring.doorbell();
      if (dispatchBoardIrqs(context.state)) runScheduledCallbacks(vm);
      output.flush();
      if (!fs.hasOpenWrites) persist();
      if (ring.available() === 0) ring.waitDoorbell(bell);
      continue;
    }
    if (repl.receive(byte) === 'soft-reset') return end(repl.mode);
  }
}

/** `MicroPython v1.24.1 on 2024-11-29; Generic ESP32S3 module with ESP32S3` (pyexec.c banner). */
export function bannerLine(firmware: FirmwareIdentity): string {
  return `MicroPython ${firmware.version} on ${firmware.buildDate}; ${firmware.boardName} with ${firmware.mcuName}`;
}

/**
 * Makes the board filesystem the VM's root (so `os.listdir('/')` shows board files only), then
 * imports the board modules from a temporary mount that is removed afterwards.
 */
function installBoardModules(vm: WasmInterpreter, context: SessionContext): void {
  vm.fs.mkdir(MODULE_STAGING_DIR);
  for (const [file, source] of context.moduleSources) vm.fs.writeFile(`${MODULE_STAGING_DIR}/${file}`, source);
  const extra = JSON.stringify(context.extraModuleNames);
  vm.runPython(`
def _board_setup():
    import vfs, os, sys
    vfs.umount("/")
    vfs.mount(vfs.VfsPosix("${BOARD_FS_ROOT}"), "/")
    vfs.mount(vfs.VfsPosix("${MODULE_STAGING_DIR}"), "${BOARD_MODULE_ROOT}")
    os.chdir("/")
    sys.path.insert(0, "${BOARD_MODULE_ROOT}")
    try:
        __import__("_board_init").install(${extra})
    finally:
        sys.path.remove("${BOARD_MODULE_ROOT}")
        vfs.umount("${BOARD_MODULE_ROOT}")
_board_setup()
del _board_setup
`);
}

/** Runs the VM's scheduled callbacks at the idle REPL (they print what they raise themselves). */
function runScheduledCallbacks(vm: WasmInterpreter): void {
  try {
    vm.callFunction('_board_init', 'run_scheduled');
  } catch (err: unknown) {
    // A Ctrl-C landing in the helper's own bookkeeping: nothing ran that needs reporting.
    if (!(err instanceof PythonException)) throw err;
  }
}

type BootScriptResult = 'missing' | 'ok' | 'error' | 'exit';

function runBootScript(vm: WasmInterpreter, path: string): BootScriptResult {
  try {
    const result = vm.callFunction('_board_init', 'run_file', path);
    return result === 'missing' || result === 'ok' || result === 'exit' ? result : 'error';
  } catch (err: unknown) {
    // A Ctrl-C landing in the runner's own bookkeeping: the script was interrupted.
    if (err instanceof PythonException) return 'error';
    throw err;
  }
}
