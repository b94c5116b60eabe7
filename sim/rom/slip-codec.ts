/**
 * SLIP framing of the ESP serial bootloader protocol (reference esptool-protocol.md §2.1): every
 * packet is `C0 … C0`; inside, `C0` → `DB DC` and `DB` → `DB DD`. Back-to-back delimiters and empty
 * frames are legal and skipped.
 */

const END = 0xc0;
const ESC = 0xdb;
const ESC_END = 0xdc;
const ESC_ESC = 0xdd;

/** Frames `payload` (escaping applied after the caller computed sizes and checksums). */
export function slipEncode(payload: Uint8Array): Uint8Array {
  let extra = 0;
  for (const byte of payload) if (byte === END || byte === ESC) extra++;
  const out = new Uint8Array(payload.length + extra + 2);
  let at = 0;
  out[at++] = END;
  for (const byte of payload) {
    if (byte === END) {
      out[at++] = ESC;
      out[at++] = ESC_END;
    } else if (byte === ESC) {
      out[at++] = ESC;
      out[at++] = ESC_ESC;
    } else {
      out[at++] = byte;
    }
  }
  out[at] = END;
  return out;
}

/**
 * Incremental SLIP decoder for the board's receive side. Bytes outside a frame are ignored (the ROM
 * has nothing to say about line noise); an invalid escape keeps the byte as sent, which then fails
 * the command's size or checksum check.
 */
export class SlipDecoder {
  #inFrame = false;
  #escaped = false;
  #buffer: number[] = [];

  /** Feeds received bytes; returns the complete non-empty frames they finished, in order. */
  push(data: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    for (const byte of data) {
      if (byte === END) {
        if (this.#inFrame && this.#buffer.length > 0) {
          frames.push(Uint8Array.from(this.#buffer));
          this.#buffer = [];
        }
        // A delimiter both ends a frame and may open the next one (`C0 C0` between frames).
        this.#inFrame = true;
        this.#escaped = false;
        continue;
      }
      if (!this.#inFrame) continue;
      if (this.#escaped) {
        this.#escaped = false;
        this.#buffer.push(byte === ESC_END ? END : byte === ESC_ESC ? ESC : byte);
      } else if (byte === ESC) {
        this.#escaped = true;
      } else {
        this.#buffer.push(byte);
      }
    }
    return frames;
  }

  /** Drops a partial frame (the chip reset). */
  reset(): void {
    this.#inFrame = false;
    this.#escaped = false;
    this.#buffer = [];
  }
}
