/**
 * The board side of raw-paste mode's data transfer (micropython-host-protocols.md §1.6; MicroPython
 * shared/runtime/pyexec.c, `mp_reader_new_stdin` / `mp_reader_stdin_readbyte`).
 *
 * Accepting sends `R\x01`, the window size (u16 little-endian) and `\x01`, which gives the host two
 * windows of credit — the whole stdin buffer. Every data byte consumed counts down one window; when
 * it reaches zero the board sends `\x01` (one more window). Ctrl-D ends the data; Ctrl-C ends it and
 * raises `KeyboardInterrupt`.
 *
 * Here the source is collected as it arrives (the simulator compiles once the host has finished),
 * so bytes are consumed — and credit returned — as soon as they are received.
 */
import { CTRL_C, CTRL_D } from '../../runner/repl/raw-repl-bytes.ts';

/** Window size the esp32 port announces: MICROPY_REPL_STDIN_BUFFER_MAX (256) / 2. */
export const RAW_PASTE_WINDOW_BYTES = 128;

/** Flow-control byte: one more window may be sent. */
export const RAW_PASTE_CREDIT = 0x01;

/** Bytes that accept a raw-paste request. */
export function rawPasteAcceptReply(windowBytes = RAW_PASTE_WINDOW_BYTES): Uint8Array {
  return Uint8Array.of(0x52, 0x01, windowBytes & 0xff, (windowBytes >> 8) & 0xff, RAW_PASTE_CREDIT);
}

/** What one received byte did to the transfer. */
export type RawPasteProgress = 'more' | 'end' | 'interrupted';

/** Collects one raw-paste transfer. */
export class RawPasteReceiver {
  readonly #windowBytes: number;
  readonly #sendCredit: () => void;
  readonly #chunks: Uint8Array[] = [];
  #current = new Uint8Array(1024);
  #length = 0;
  #windowRemaining: number;

  /** @param sendCredit sends one {@link RAW_PASTE_CREDIT} byte to the host */
  constructor(sendCredit: () => void, windowBytes = RAW_PASTE_WINDOW_BYTES) {
    this.#windowBytes = windowBytes;
    this.#windowRemaining = windowBytes;
    this.#sendCredit = sendCredit;
  }

  /** Handles one byte from the host. */
  push(byte: number): RawPasteProgress {
    if (byte === CTRL_D) return 'end';
    if (byte === CTRL_C) return 'interrupted';
    if (this.#length === this.#current.length) {
      this.#chunks.push(this.#current);
      this.#current = new Uint8Array(this.#current.length * 2);
      this.#length = 0;
    }
    this.#current[this.#length++] = byte;
    if (--this.#windowRemaining === 0) {
      this.#sendCredit();
      this.#windowRemaining = this.#windowBytes;
    }
    return 'more';
  }

  /** The source received so far. */
  source(): Uint8Array {
    const total = this.#chunks.reduce((n, c) => n + c.length, 0) + this.#length;
    const out = new Uint8Array(total);
    let at = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    out.set(this.#current.subarray(0, this.#length), at);
    return out;
  }
}
