/**
 * Tells whether the friendly REPL's line buffer is certainly empty. The VM's buffer is not visible
 * from outside, so the front-end follows the bytes it feeds (shared/readline/readline.c semantics)
 * and what the VM printed for each; whenever that cannot be followed exactly the line counts as
 * "maybe not empty", which only means the VM gets to handle the next `\r` itself.
 */

const BACKSPACE = 0x08;
const ESC = 0x1b;
const DEL = 0x7f;

/** See the module note. */
export class FriendlyLineTracker {
  /** Characters on the line, or null when unknown. */
  #length: number | null = 0;
  /** Position inside an escape sequence (0 = none). */
  #escape = 0;
  #escapePrinted = false;

  /** True when the line is known to be empty. */
  get certainlyEmpty(): boolean {
    return this.#length === 0 && this.#escape === 0;
  }

  /** A fresh prompt was printed. */
  reset(): void {
    this.#length = 0;
    this.#escape = 0;
  }

  /** Records a byte the VM processed and how many bytes it printed in response. */
  fed(byte: number, printedBytes: number): void {
    if (this.#escape > 0) {
      this.#followEscape(byte, printedBytes);
      return;
    }
    if (byte === ESC) {
      this.#escape = 1;
      this.#escapePrinted = printedBytes > 0;
    } else if (byte >= 0x20 && byte !== DEL) {
      if (this.#length !== null) this.#length++;
    } else if (byte === BACKSPACE || byte === DEL) {
      if (this.#length !== null && this.#length > 0) this.#length--;
    } else if (printedBytes > 0) {
      // An editing key that changed the line or the screen (readline ignores others silently, e.g. `\n`).
      this.#length = null;
    }
  }

  /** ESC [ or ESC O, parameters 0x30–0x3F, then a final byte 0x40–0x7E (ECMA-48 §5.4). */
  #followEscape(byte: number, printedBytes: number): void {
    this.#escapePrinted ||= printedBytes > 0;
    const introducer = this.#escape === 1 && (byte === 0x5b || byte === 0x4f);
    const parameter = this.#escape > 1 && byte >= 0x30 && byte <= 0x3f;
    this.#escape++;
    if (introducer || parameter) return;
    this.#escape = 0;
    // Cursor keys on an empty line print nothing; history recall prints the recalled line.
    if (this.#escapePrinted) this.#length = null;
  }
}
