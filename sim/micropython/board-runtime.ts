/**
 * `_board_hw`: the JavaScript module through which the Python board modules (`board-modules/*.py`)
 * reach the simulated hardware — identity facts, the CPU clock setting, non-busy sleeps, the waits of
 * asyncio's loop, reset requests, the radio and the native USB device stack. Runs in the interpreter's worker.
 */
import { randomBytes } from 'node:crypto';
import type { BoardHardware, FirmwareIdentity, ResetCause } from './micropython-host.ts';
import type { InputRing } from './input-ring.ts';
import { createRadioModule, type BoardRadio } from './radio-board-module.ts';
import { createUsbdModule } from './usbd-board-module.ts';
import type { UsbdStack } from './usbd-stack.ts';

/** `machine.reset_cause()` values (ports/esp32/modmachine.h). */
export const RESET_CAUSE_CODES: Readonly<Record<ResetCause, number>> = {
  'power-on': 1,
  hard: 2,
  watchdog: 3,
  'deep-sleep': 4,
  soft: 5,
};

/** CPU clock of the esp32/esp32s3 MicroPython builds at boot (CONFIG_ESP_DEFAULT_CPU_FREQ_MHZ_160). */
export const DEFAULT_CPU_FREQ_HZ = 160_000_000;

/** MicroPython's ticks wrap at 2^30 on 32-bit ports (MICROPY_PY_TIME_TICKS_PERIOD). */
const TICKS_PERIOD = 2 ** 30;

/**
 * Size of the MicroPython GC heap on the board, bytes: with PSRAM the heap lives there; without it
 * the internal SRAM left after ESP-IDF gives ~150 KB on an esp32 and ~256 KB on an esp32s3.
 */
export function boardHeapBytes(hardware: BoardHardware): number {
  if (hardware.psramBytes > 0) return hardware.psramBytes;
  return hardware.chip === 'esp32s3' ? 256 * 1024 : 150 * 1024;
}

/** Board state that survives soft resets (hardware registers, not VM state). */
export interface BoardRuntimeState {
  cpuFreqHz: number;
  /** Wi-Fi state and the ESP-NOW endpoint (the worker deinitialises ESP-NOW at each soft reset). */
  radio: BoardRadio;
  /** The native USB device stack (what the bus shows survives; the runtime device is dropped at soft reset). */
  usb: UsbdStack;
}

/**
 * Schedules the board's pending interrupt callbacks (ESP-NOW receive, USB device events) at a VM safe
 * point; true when it scheduled any. Every source is polled, whatever the others report.
 */
export function dispatchBoardIrqs(state: BoardRuntimeState): boolean {
  const radio = state.radio.espnow.dispatchIrq();
  const usb = state.usb.dispatchIrq();
  return radio || usb;
}

/** What {@link createBoardRuntimeModule} needs. */
export interface BoardRuntimeDeps {
  hardware: BoardHardware;
  firmware: FirmwareIdentity;
  resetCause: ResetCause;
  state: BoardRuntimeState;
  ring: InputRing;
  /** Called before the worker blocks (flush console output, persist the filesystem). */
  beforeBlock(): void;
  /** Hands a reset request to the board and never returns. */
  requestReset(kind: 'hard' | 'bootloader'): never;
}

/** `v1.24.1` → [1, 24, 1, ''], `v1.25.0-preview.12.gabc` → [1, 25, 0, 'preview'] (sys.implementation.version). */
export function versionTuple(version: string): [number, number, number, string] {
  const match = /^v?(\d+)\.(\d+)(?:\.(\d+))?(-preview)?/.exec(version);
  if (match === null) return [0, 0, 0, ''];
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0), match[4] === undefined ? '' : 'preview'];
}

/**
 * Blocks the worker for `ms` or until the host thread raises a keyboard interrupt, whichever comes
 * first; returns true when interrupted. Zero CPU while waiting (Atomics.wait on the input doorbell).
 * `wakeEarly` (checked at the start and after every wake-up) ends the sleep early, also returning
 * true, when it reports that it scheduled Python callbacks: the caller's Python loop then passes a VM
 * check point, where they run, and sleeps on for the time left — as `mp_hal_delay_ms` runs pending
 * callbacks during a sleep on the board.
 */
export function sleepInterruptibly(ring: InputRing, ms: number, wakeEarly: () => boolean = () => false): boolean {
  const deadline = performance.now() + Math.max(0, Number.isFinite(ms) ? ms : 0);
  for (;;) {
    if (ring.takeInterrupt() || wakeEarly()) return true;
    const remaining = deadline - performance.now();
    if (remaining <= 0) return false;
    const bell = ring.doorbell();
    if (ring.takeInterrupt()) return true;
    ring.waitDoorbell(bell, remaining);
  }
}

/** Outcome of {@link waitForEvent}, as the Python side sees it. */
export const WaitOutcome = { timeout: 0, event: 1, interrupted: 2 } as const;

/**
 * Blocks the worker until something arrives on the board's input (serial bytes, or anything else
 * that rings its doorbell such as a radio frame), the host thread raises a keyboard interrupt, or
 * `ms` passes. Zero CPU while waiting. `wakeEarly` as for {@link sleepInterruptibly} (an early wake
 * reports an event; the caller re-checks what it waits for).
 */
export function waitForEvent(ring: InputRing, ms: number, wakeEarly: () => boolean = () => false): number {
  if (ring.takeInterrupt()) return WaitOutcome.interrupted;
  if (wakeEarly()) return WaitOutcome.event;
  const bell = ring.doorbell();
  if (ring.available() === 0 && Number.isFinite(ms) && ms > 0) ring.waitDoorbell(bell, ms);
  if (ring.takeInterrupt()) return WaitOutcome.interrupted;
  wakeEarly();
  return ring.doorbell() !== bell || ring.available() > 0 ? WaitOutcome.event : WaitOutcome.timeout;
}

/**
 * Blocks the worker until the doorbell differs from `seen` (a value read with `ring.doorbell()`
 * before the caller last checked what it waits for, so nothing that rang in between is missed),
 * the host thread raises a keyboard interrupt, or `ms` passes (negative or infinite: no limit).
 * Zero CPU while waiting. Unlike {@link waitForEvent}, unread serial input does not count as an
 * event by itself: asyncio's loop waits for stdin only when a task polls it. `wakeEarly` as for
 * {@link sleepInterruptibly}.
 */
export function waitForDoorbell(ring: InputRing, seen: number, ms: number, wakeEarly: () => boolean = () => false): number {
  if (ring.takeInterrupt()) return WaitOutcome.interrupted;
  if (wakeEarly() || ring.doorbell() !== seen) return WaitOutcome.event;
  const forever = !Number.isFinite(ms) || ms < 0;
  if (forever || ms > 0) ring.waitDoorbell(seen, forever ? undefined : ms);
  if (ring.takeInterrupt()) return WaitOutcome.interrupted;
  wakeEarly();
  return ring.doorbell() !== seen ? WaitOutcome.event : WaitOutcome.timeout;
}

/** `MP_STREAM_POLL` flags (py/stream.h), as `select.POLLIN` and `select.POLLOUT` report them. */
export const PollFlag = { readable: 0x0001, writable: 0x0004 } as const;

/**
 * The stream-poll readiness of the ESP-NOW singleton (modespnow.c's ioctl, reference §7.1):
 * readable while a packet waits in the receive buffer, writable while no sent packet awaits its
 * answer; an inactive instance reports neither.
 */
export function espNowPollFlags(espnow: BoardRadio['espnow']): number {
  if (!espnow.isActive()) return 0;
  return (espnow.hasPacket() ? PollFlag.readable : 0) | (espnow.responsesPending() ? 0 : PollFlag.writable);
}

/** The object registered as Python module `_board_hw`. */
export function createBoardRuntimeModule(deps: BoardRuntimeDeps): Record<string, unknown> {
  const { hardware, firmware, state } = deps;
  // ESP-NOW receive and USB device callbacks are scheduled at the safe points of sleeps and waits.
  const boardIrqs = (): boolean => dispatchBoardIrqs(state);
  const [major, minor, micro, prerelease] = versionTuple(firmware.version);
  return {
    version: firmware.version,
    build_date: firmware.buildDate,
    board_name: firmware.boardName,
    mcu_name: firmware.mcuName,
    chip: hardware.chip,
    mac_hex: Buffer.from(hardware.mac).toString('hex'),
    flash_size: hardware.flashSizeBytes,
    // esp.flash_read: hex text crosses the JS/Python boundary fastest (1 MiB in ~45 ms); null = out of range.
    flash_read_hex: (offset: number, length: number): string | null => {
      const flash = hardware.flashMemory;
      if (flash === undefined || !Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 ||
        offset + length > flash.length) return null;
      return Buffer.from(flash.subarray(offset, offset + length)).toString('hex');
    },
    psram_size: hardware.psramBytes,
    heap_total: boardHeapBytes(hardware),
    reset_cause: RESET_CAUSE_CODES[deps.resetCause],
    version_major: major,
    version_minor: minor,
    version_micro: micro,
    version_prerelease: prerelease,
    get_freq: () => state.cpuFreqHz,
    set_freq: (hz: number) => {
      state.cpuFreqHz = hz;
    },
    ticks_us: () => Math.floor(performance.now() * 1000) % TICKS_PERIOD,
    random_hex: (n: number) => randomBytes(Math.max(0, Math.floor(n))).toString('hex'),
    sleep_ms: (ms: number) => {
      deps.beforeBlock();
      return sleepInterruptibly(deps.ring, ms, boardIrqs);
    },
    wait_event: (ms: number) => {
      deps.beforeBlock();
      return waitForEvent(deps.ring, ms, boardIrqs);
    },
    // asyncio's loop: read the doorbell, check timers and polled objects, then wait on that value.
    doorbell: () => deps.ring.doorbell(),
    wait_doorbell: (seen: number, ms: number) => {
      deps.beforeBlock();
      return waitForDoorbell(deps.ring, seen, ms, boardIrqs);
    },
    radio: { ...createRadioModule(state.radio, deps.beforeBlock), espnow_poll: () => espNowPollFlags(state.radio.espnow) },
    usbd: createUsbdModule(state.usb),
    request_reset: (kind: string) => deps.requestReset(kind === 'bootloader' ? 'bootloader' : 'hard'),
  };
}
