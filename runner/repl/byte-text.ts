/**
 * Small conversions between bytes and text used by the REPL client: protocol strings are ASCII, board
 * output is UTF-8 (decoded leniently), and evidence shows bytes with control characters escaped.
 */

const utf8Decoder = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** Decodes board output as UTF-8; invalid sequences become U+FFFD instead of throwing. */
export function decodeUtf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

/** Concatenates byte arrays into one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Index of the first occurrence of `pattern` in `haystack[from, to)`, or -1. A plain scan: patterns
 * are a few bytes long and buffers are small, so nothing cleverer pays off.
 */
export function indexOfBytes(haystack: Uint8Array, pattern: Uint8Array, from = 0, to = haystack.length): number {
  if (pattern.length === 0) return from;
  const first = pattern[0];
  const last = to - pattern.length;
  outer: for (let i = Math.max(0, from); i <= last; i++) {
    if (haystack[i] !== first) continue;
    for (let j = 1; j < pattern.length; j++) {
      if (haystack[i + j] !== pattern[j]) continue outer;
    }
    return i;
  }
  return -1;
}

/** True when `bytes` ends with `suffix`. */
export function endsWithBytes(bytes: Uint8Array, suffix: Uint8Array): boolean {
  if (suffix.length > bytes.length) return false;
  const offset = bytes.length - suffix.length;
  for (let i = 0; i < suffix.length; i++) {
    if (bytes[offset + i] !== suffix[i]) return false;
  }
  return true;
}

/**
 * Bytes as a one-line, printable string for logs and error evidence: printable ASCII as is, `\\`
 * doubled, `\r` `\n` `\t` as escapes and everything else as `\xNN` — e.g. `raw REPL; CTRL-B to exit\r\n>`.
 */
export function escapeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) {
    if (byte === 0x5c) out += '\\\\';
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else if (byte === 0x0d) out += '\\r';
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x09) out += '\\t';
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}
