/**
 * Entry point of an interpreter worker thread (started by {@link WasmMicroPythonHost}): runs the
 * board's MicroPython sessions one after another — power-on, then a fresh VM after every soft reset
 * (printing `MPY: soft reboot`), keeping the REPL mode and the filesystem — until the host thread
 * terminates the worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { firmwareModuleNames, readBoardModuleSources } from './board-modules.ts';
import { DEFAULT_CPU_FREQ_HZ } from './board-runtime.ts';
import { DEFAULT_BOOT_PY } from './board-filesystem.ts';
import { ConsoleOutput } from './console-output.ts';
import { decodeFsImage, type FsImageEntry } from './fs-image.ts';
import { InputRing } from './input-ring.ts';
import { EspNowEndpoint } from './radio-espnow-endpoint.ts';
import { RadioMailbox } from './radio-mailbox.ts';
import { WifiState } from './radio-wifi-state.ts';
import { runSession, type SessionContext, type SessionStart } from './interpreter-session.ts';
import { WasmInterpreterLoader } from './wasm-interpreter.ts';
import { builtinCdcDevice } from '../usbd/builtin-cdc-device.ts';
import { hasNativeUsb, usbDeviceApiAvailable } from './usbd-availability.ts';
import { UsbdEventRing } from './usbd-event-ring.ts';
import { UsbdStack } from './usbd-stack.ts';
import type { WorkerInit, WorkerMessage } from './worker-protocol.ts';

const port = parentPort;
if (port === null) throw new Error('micropython-worker.ts must run in a worker thread');
const init = workerData as WorkerInit;

function post(message: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

/** Entries to boot with: the stored image, or a fresh filesystem holding the default boot.py. */
function initialFilesystem(image: Uint8Array | null): { entries: FsImageEntry[]; fresh: boolean } {
  const decoded = image === null ? null : decodeFsImage(image);
  if (decoded?.ok) return { entries: decoded.entries, fresh: false };
  return { entries: [{ kind: 'file', path: 'boot.py', data: new TextEncoder().encode(DEFAULT_BOOT_PY) }], fresh: true };
}

async function main(): Promise<void> {
  const sources = readBoardModuleSources();
  for (const [name, source] of Object.entries(init.extraModules)) sources.set(`${name}.py`, source);
  const output = new ConsoleOutput({
    sink: (chunk) => post({ type: 'output', chunk }, [chunk.buffer]),
  });
  const ring = InputRing.attach(init.ringBuffer);
  const radio = {
    wifi: new WifiState(init.hardware.mac, (message) => post(message)),
    espnow: new EspNowEndpoint({ input: ring, mailbox: RadioMailbox.attach(init.radioMailboxBuffer), post: (message) => post(message) }),
  };
  // The USB peripheral starts off the bus at power-on; the first connect comes after boot.py.
  const usb = new UsbdStack({
    nativeUsb: hasNativeUsb(init.hardware.chip),
    deviceApi: usbDeviceApiAvailable(init.hardware.chip, init.firmware.version),
    builtin: builtinCdcDevice(init.hardware.mac, init.firmware.version),
    events: UsbdEventRing.attach(init.usbdEventBuffer),
    post: init.usbPort ? (message) => post({ type: 'usbd', message }) : null,
    flushConsole: () => output.flush(),
  });
  const context: SessionContext = {
    loader: new WasmInterpreterLoader(),
    ring,
    output,
    hardware: init.hardware,
    firmware: init.firmware,
    fsCapacityBytes: init.fsCapacityBytes,
    state: { cpuFreqHz: DEFAULT_CPU_FREQ_HZ, radio, usb },
    moduleSources: sources,
    // The firmware's own optional modules (by version) first, then the simulator's extras.
    extraModuleNames: [...firmwareModuleNames(init.firmware.version), ...Object.keys(init.extraModules)],
    post,
  };
  const filesystem = initialFilesystem(init.fsImage);
  let start: SessionStart = { cause: init.cause, mode: 'friendly', entries: filesystem.entries, freshFilesystem: filesystem.fresh };
  for (;;) {
    const end = await runSession(context, start);
    // ports/esp32/main.c: ESP-NOW and runtime USB are deinitialised before the notice; Wi-Fi stays as
    // it is (§2.3). An active runtime device leaves the bus first, so the host never sees the notice
    // on the connection it had (§2.4).
    radio.espnow.resetForSoftReboot();
    usb.deinitForSoftReset();
    output.fromVmText('MPY: soft reboot\n');
    start = { cause: 'soft', mode: end.mode, entries: end.entries, freshFilesystem: false };
  }
}

main().catch((err: unknown) => {
  post({ type: 'fatal', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
});
