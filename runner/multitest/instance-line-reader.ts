/**
 * Reads a running instance's output as run-multitests.py does (§6.7 of
 * /work/shared/reference/micropython-host-protocols.md): pieces ending in `\r\n` or `\x04`, the `\x04`
 * being the end of the program's stdout in the raw REPL result framing.
 */
import { isHilError } from '../errors.ts';
import type { ByteReader } from '../repl/byte-reader.ts';
import { concatBytes, indexOfBytes } from '../repl/byte-text.ts';
import type { Clock } from '../repl/clock.ts';
import { BoardBytes } from '../repl/raw-repl-bytes.ts';

const CRLF = Uint8Array.of(0x0d, 0x0a);
const EOT = BoardBytes.endOfPart[0]!;
const PROMPT = BoardBytes.rawPrompt[0]!;
const RAW_BANNER_AND_PROMPT = BoardBytes.rawBannerAndPrompt;

/** One piece of output: a line (without `\r\n`), or what was printed before the end-of-output `\x04`. */
export interface OutputPiece {
  text: string;
  end: 'line' | 'eot';
}

/**
 * Pulls bytes from a board's {@link ByteReader} on demand and splits them. Only this object reads from
 * the board while the instance runs; bytes it has taken but not yet returned stay in its own buffer.
 * Reads never overlap (one caller at a time).
 */
export class InstanceLineReader {
  private pending: Uint8Array = new Uint8Array(0);

  constructor(private readonly reader: ByteReader, private readonly clock: Clock) {}

  /**
   * The next line or end-of-output piece, decoded as in {@link decodeOutput}; `timeout` when none is
   * complete by `deadline` (absolute, on the clock). Errors: `LINK_GONE`, `ABORTED` from the reader.
   */
  async nextPiece(deadline: number, signal?: AbortSignal): Promise<OutputPiece | 'timeout'> {
    for (;;) {
      const lineEnd = indexOfBytes(this.pending, CRLF);
      const eot = this.pending.indexOf(EOT);
      if (eot >= 0 && (lineEnd < 0 || eot < lineEnd)) return { text: decodeOutput(this.take(eot, 1)), end: 'eot' };
      if (lineEnd >= 0) return { text: decodeOutput(this.take(lineEnd, 2)), end: 'line' };
      if (!(await this.fill(deadline, signal))) return 'timeout';
    }
  }

  /**
   * Everything up to the next `\x04` (the traceback part of the framing), decoded without stripping,
   * as run-multitests.py keeps it. `complete` is false when `deadline` passed first.
   */
  async untilEot(deadline: number, signal?: AbortSignal): Promise<{ text: string; complete: boolean }> {
    for (;;) {
      const eot = this.pending.indexOf(EOT);
      if (eot >= 0) return { text: decodeAscii(this.take(eot, 1)), complete: true };
      if (!(await this.fill(deadline, signal))) return { text: decodeAscii(this.take(this.pending.length, 0)), complete: false };
    }
  }

  /**
   * Consumes what a board prints after the result framing until it is idle at the raw prompt: a lone
   * `>`, or — after `SystemExit` — the soft reboot ending with the raw banner and `>` (§1.5). Stopping
   * the board before that would let the soft reboot's banner be taken for the answer to a later Ctrl-A.
   * False when `deadline` passes first.
   */
  async awaitIdlePrompt(deadline: number, signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      if (this.pending[0] === PROMPT) {
        this.take(0, 1);
        return true;
      }
      const banner = indexOfBytes(this.pending, RAW_BANNER_AND_PROMPT);
      if (banner >= 0) {
        this.take(banner, RAW_BANNER_AND_PROMPT.length);
        return true;
      }
      if (!(await this.fill(deadline, signal))) return false;
    }
  }

  /** Waits for at least one more byte; false when `deadline` passes first. */
  private async fill(deadline: number, signal: AbortSignal | undefined): Promise<boolean> {
    try {
      const first = await this.reader.readExact(1, {
        timeoutMs: Math.max(0, deadline - this.clock.now()),
        phase: 'multitest: instance output',
        ...(signal ? { signal } : {}),
      });
      this.pending = concatBytes([this.pending, first, this.reader.readAvailable()]);
      return true;
    } catch (err: unknown) {
      if (isHilError(err, 'TIMEOUT')) return false;
      throw err;
    }
  }

  /** Removes and returns `pending[0, length)`, also dropping `skip` bytes of terminator after it. */
  private take(length: number, skip: number): Uint8Array {
    const out = this.pending.slice(0, length);
    this.pending = this.pending.slice(length + skip);
    return out;
  }
}

/** Trailing bytes `bytes.rstrip()` removes in Python: space, \t, \n, \v, \f, \r. */
const PY_WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]);

/** A line as run-multitests.py records it: right-stripped of ASCII whitespace, then {@link decodeAscii}. */
export function decodeOutput(bytes: Uint8Array): string {
  let end = bytes.length;
  while (end > 0 && PY_WHITESPACE.has(bytes[end - 1]!)) end--;
  return decodeAscii(bytes.subarray(0, end));
}

/** ASCII with Python's `backslashreplace`: bytes 0x80–0xFF become `\xNN`. */
export function decodeAscii(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte < 0x80 ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  return out;
}
