/**
 * Seam for the ROM download-mode personality (SLIP command protocol, flasher stub, flash writes —
 * reference esptool-protocol.md §A). The board starts one session each time it enters download mode
 * and stops it when the chip resets or loses power; between those, every host byte goes to the
 * session. The default loader ignores input, like a chip whose loader never answers.
 */
import type { ChipName } from '../../runner/firmware/esp-chips.ts';
import type { BoardClock } from './board-clock.ts';
import type { BootMode } from './boot-rom.ts';
import type { FlashStore } from './flash-store.ts';

/** What a ROM loader session may use. Calls after the session stopped are ignored. */
export interface RomLoaderContext {
  readonly boardId: string;
  readonly chip: ChipName;
  /** Factory MAC, 6 bytes (eFuse contents). */
  readonly mac: Uint8Array;
  readonly flash: FlashStore;
  readonly clock: BoardClock;
  /** Current wire baud rate (set by the host). */
  readonly baudRate: number;
  /**
   * Switches the chip's UART to `baudRate` (CHANGE_BAUDRATE, after its reply has drained at the old
   * rate). The host normally follows with its own rate change (RFC 2217 SET_BAUDRATE) to the same value.
   */
  setBaudRate(baudRate: number): void;
  /** Sends bytes to the host (paced like all board output). */
  transmit(data: Uint8Array): void;
  /** Resolves when everything transmitted so far has left the wire (e.g. before rebooting). */
  whenTransmitDrained(): Promise<void>;
  /**
   * Reboots the chip by software (FLASH_END with reboot, RUN_USER_CODE): `normal` boots the flashed
   * image, `download` re-enters the ROM loader. Takes effect on the next microtask; the session is
   * stopped first. Await {@link whenTransmitDrained} before calling it so a reply still leaves.
   */
  reboot(mode: BootMode): void;
}

/** One download-mode session. */
export interface RomLoaderSession {
  /** Bytes from the host, in order. Never blocks. */
  receive(data: Uint8Array): void;
  /** The chip reset or lost power: drop all state (uploaded stub, flash operation in progress). */
  stop(): void;
}

/** Creates sessions; one instance per board. */
export interface RomLoader {
  start(context: RomLoaderContext): RomLoaderSession;
}

/** The default: accepts and ignores every byte (no protocol implemented yet). */
export const silentRomLoader: RomLoader = Object.freeze({
  start: (): RomLoaderSession => ({ receive: () => {}, stop: () => {} }),
});
