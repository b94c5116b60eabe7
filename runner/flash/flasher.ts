/**
 * The flasher role: write firmware parts to one board over an open serial link, skipping regions the
 * board already holds and writing only changed sectors of the others. Implemented by `EsptoolFlasher`.
 */
import type { BoardEndpoint } from '../bench/board-endpoint.ts';
import type { SerialLink } from '../link/serial-link.ts';

/** One file to write at a flash offset (bootloader, partition table, app, …). */
export interface FlashPart {
  /** Region name used in progress events and errors, e.g. `app`. */
  name: string;
  /** Flash offset in bytes; sector-aligned (4 KiB) for diff flashing. */
  offset: number;
  data: Uint8Array;
}

/** Phases of a flash session, in order. */
export type FlashPhase = 'connect' | 'compare' | 'write' | 'verify' | 'reset';

/** What happened to one region. */
export type RegionOutcome =
  /** The board's MD5 already matched: nothing written. */
  | 'skipped'
  /** Only the changed sectors were written. */
  | 'diff'
  /** The whole region was written. */
  | 'full';

/** Progress of a flash session; emitted often during `write`, once per step otherwise. */
export interface FlashProgressEvent {
  phase: FlashPhase;
  boardId: string;
  /** Region name; null for the session-wide `connect` and `reset` phases. */
  region: string | null;
  /** Bytes handled so far in this phase of this region (uncompressed). */
  bytesDone: number;
  bytesTotal: number;
  /** Set on the last `compare` event of a region (what will happen) and on its `verify` event. */
  outcome?: RegionOutcome;
  /** The baud rate in use, set on the final `connect` event. */
  baudRate?: number;
}

/** Everything the flasher needs for one board. */
export interface FlashRequest {
  board: BoardEndpoint;
  /** An open link to the board's console; the flasher leaves it open. */
  link: SerialLink;
  parts: readonly FlashPart[];
  /** Target baud rate once the stub runs; default 921600, falling back to 460800 then 115200. */
  baudRate?: number;
  /** Skip regions whose MD5 on the board matches; default true. */
  skipUnchanged?: boolean;
  /** Write only changed sectors of a changed region; default true. */
  diff?: boolean;
  /**
   * USB identity of the console port when known (local ttys). Undefined over RFC 2217, which makes
   * esptool-js use the classic DTR/RTS reset (reference/esptool-protocol.md §13 item 16).
   */
  usbId?: { vendorId: number; productId: number };
}

/** Result of one region. */
export interface RegionResult {
  name: string;
  offset: number;
  /** Region length as written (padded to 4 bytes). */
  sizeBytes: number;
  outcome: RegionOutcome;
  /** Bytes sent for writing (uncompressed). */
  writtenBytes: number;
  /** Number of contiguous runs written. */
  runs: number;
  /** Lowercase hex MD5 of the region, as verified on the board. */
  md5: string;
}

/** Result of a successful flash session. */
export interface FlashResult {
  boardId: string;
  /** What the loader reported, e.g. `ESP32-D0WD-V3 (revision v3.0)`. */
  chipDescription: string;
  /** Baud rate the data went at. */
  baudRate: number;
  regions: RegionResult[];
}

/** Options of {@link Flasher.flash}. */
export interface FlashCallOptions {
  signal?: AbortSignal;
  onProgress?: (event: FlashProgressEvent) => void;
}

/**
 * Writes firmware to a board and hard-resets it into the new firmware. Errors are `HilError`s: bad
 * input (`FLASH_CHIP_MISMATCH`) leaves flash untouched; infrastructure errors (`TIMEOUT`, `LINK_GONE`,
 * `FLASH_PROTOCOL`, `FLASH_VERIFY_FAILED`, `ABORTED`) name the board, region and phase in evidence.
 */
export interface Flasher {
  flash(request: FlashRequest, options?: FlashCallOptions): Promise<FlashResult>;
}
