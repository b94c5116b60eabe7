/**
 * Contract between a simulated board and the MicroPython interpreter it runs. The board owns power,
 * reset and flash; the host owns the interpreter (one WebAssembly instance in a worker thread), the
 * REPL front-end and the board modules (`machine`, `esp`, `network`, `espnow`, ...).
 */
import type { BoardUsbPort } from '../usbd/board-usb-port.ts';
import type { BoardRadioPort } from './board-radio-port.ts';

/** What the flashed firmware says about itself (read from the image by the board's boot code). */
export interface FirmwareIdentity {
  /** git-describe style version, e.g. `v1.24.1`. */
  version: string;
  /** Build date `YYYY-MM-DD`, printed in the banner. */
  buildDate: string;
  /** e.g. `Generic ESP32S3 module`. */
  boardName: string;
  /** MCU name printed after "with", e.g. `ESP32S3` or `ESP32`. */
  mcuName: string;
}

/** Fixed facts of the simulated hardware. */
export interface BoardHardware {
  chip: 'esp32' | 'esp32s3';
  /** Factory (base) MAC, 6 bytes. */
  mac: Uint8Array;
  flashSizeBytes: number;
  /** 0 when the board has no PSRAM. */
  psramBytes: number;
  /**
   * A live view of the board's SPI flash (SharedArrayBuffer-backed, so the interpreter's worker sees
   * it too), for `esp.flash_read`. Read-only for the interpreter. Absent: `esp.flash_read` raises.
   */
  flashMemory?: Uint8Array;
}

/** Why the interpreter is starting; maps to `machine.reset_cause()`. */
export type ResetCause = 'power-on' | 'hard' | 'soft' | 'deep-sleep' | 'watchdog';

/**
 * Persistent storage for the board filesystem (boot.py, main.py, user files). The board backs it with
 * the `vfs` partition of its flash, so it survives resets and is wiped by an erase, as on hardware.
 */
export interface BoardFilesystemStore {
  /** Usable capacity in bytes. */
  readonly capacityBytes: number;
  /** The stored image, or null when the region is erased/blank. */
  read(): Uint8Array | null;
  /** Replaces the stored image. Throws when it does not fit. */
  write(image: Uint8Array): void;
}

export interface MicroPythonHostOptions {
  boardId: string;
  hardware: BoardHardware;
  firmware: FirmwareIdentity;
  filesystem: BoardFilesystemStore;
  /**
   * The board's connection to the shared 2.4 GHz medium, used by `network.WLAN` and `espnow`.
   * Absent: the radio transmits into the void (unicast sends are never acknowledged, nothing is received).
   */
  radio?: BoardRadioPort;
  /**
   * The board's native USB device controller (ESP32-S3), driven by the firmware's USB stack: the
   * built-in CDC after `boot.py`, `machine.USBDevice` runtime devices, disconnects at soft reset.
   * Absent: the firmware's USB goes nowhere (`machine.USBDevice` still works; transfers never complete).
   */
  usb?: BoardUsbPort;
}

/** A running (or stopped) MicroPython interpreter behind a board's serial port. */
export interface MicroPythonHost {
  /**
   * Boots a fresh interpreter: runs `boot.py` and `main.py` from the filesystem, then prints the
   * friendly banner and `>>> `. Resolves when the REPL is ready for input.
   */
  start(cause: ResetCause): Promise<void>;
  /** Bytes typed by the host (REPL input, Ctrl-C, raw-paste data ...). Never blocks. */
  input(data: Uint8Array): void;
  /** Subscribes to console output bytes. Returns unsubscribe. */
  onOutput(listener: (chunk: Uint8Array) => void): () => void;
  /** Subscribes to `machine.reset()` / `machine.bootloader()` requests, which the board carries out. */
  onResetRequest(listener: (kind: 'hard' | 'bootloader') => void): () => void;
  /** Stops the interpreter at once (power off / EN low), even if it is stuck in a busy loop. */
  stop(): Promise<void>;
}
