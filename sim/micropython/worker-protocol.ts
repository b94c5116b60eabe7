/**
 * Messages between {@link WasmMicroPythonHost} (host thread) and its interpreter worker
 * (`micropython-worker.ts`). Input travels the other way through the shared `InputRing`, never by
 * message, so it reaches a worker that is busy running Python.
 */
import type { BoardHardware, FirmwareIdentity, ResetCause } from './micropython-host.ts';
import type { RadioWorkerMessage } from './radio-messages.ts';
import type { UsbdWorkerMessage } from './usbd-messages.ts';
import type { InterruptFunctionBodies } from './wasm-interpreter.ts';

/** `workerData` of the interpreter worker. */
export interface WorkerInit {
  boardId: string;
  hardware: BoardHardware;
  firmware: FirmwareIdentity;
  cause: ResetCause;
  /** The stored filesystem image, or null when the store is blank. */
  fsImage: Uint8Array | null;
  /** Capacity of the filesystem store, bytes. */
  fsCapacityBytes: number;
  /** The `InputRing` buffer. */
  ringBuffer: SharedArrayBuffer;
  /** The `RadioMailbox` buffer (ESP-NOW send/receive counters the host thread keeps). */
  radioMailboxBuffer: SharedArrayBuffer;
  /** The `UsbdEventRing` buffer (the USB device controller's events). */
  usbdEventBuffer: SharedArrayBuffer;
  /** The host has a USB port for the board: post the USB device stack's messages (otherwise post none). */
  usbPort: boolean;
  /** Additional Python modules (name → source), installed after the board modules. */
  extraModules: Record<string, string>;
}

/** Worker → host. */
export type WorkerMessage =
  /** Console output, coalesced. */
  | { type: 'output'; chunk: Uint8Array }
  /** A fresh VM is loaded: how the host thread raises KeyboardInterrupt in it. */
  | { type: 'interrupt-wiring'; memory: WebAssembly.Memory; bodies: InterruptFunctionBodies }
  /** The VM is up and accepts input; boot scripts run next. */
  | { type: 'booting' }
  /** The REPL prompt is up. */
  | { type: 'ready' }
  /** The filesystem changed: persist this image. */
  | { type: 'fs-image'; image: Uint8Array }
  /** `machine.reset()` / `machine.bootloader()`: the worker is parked until stopped. */
  | { type: 'reset-request'; kind: 'hard' | 'bootloader' }
  /** The worker cannot go on (the VM failed to load, an internal error). */
  | { type: 'fatal'; message: string }
  /** Wi-Fi / ESP-NOW traffic for the radio medium (see `radio-messages.ts`). */
  | RadioWorkerMessage
  /** A message of the USB device stack for the board's USB device controller (see `usbd-messages.ts`). */
  | UsbdWorkerMessage;
