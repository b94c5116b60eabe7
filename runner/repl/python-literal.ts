/**
 * Python literal syntax, both ways: building `str`/`bytes` literals for snippets sent to the board, and
 * parsing the `repr()` text the board prints back (what mpremote does with `ast.literal_eval`).
 * Covers what MicroPython's `repr` produces for the values the REPL client asks for: `None`, `True`,
 * `False`, integers, floats, `str`, `bytes`, tuples and lists.
 */

/** A parsed Python value. Tuples and lists both become arrays; `bytes` becomes a `Uint8Array`. */
export type PythonValue = null | boolean | number | bigint | string | Uint8Array | PythonValue[];

/** A Python `str` literal for `text`, e.g. `'/lib/a\'b.py'`. Non-ASCII stays as UTF-8 source text. */
export function pythonStr(text: string): string {
  let out = "'";
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "\\'";
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}'`;
}

/** A Python `bytes` literal for `data`: printable ASCII as is, everything else `\xNN`. */
export function pythonBytes(data: Uint8Array): string {
  let out = "b'";
  for (const byte of data) {
    if (byte === 0x5c) out += '\\\\';
    else if (byte === 0x27) out += "\\'";
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return `${out}'`;
}

/** Thrown by {@link parsePythonLiteral} for text it cannot read; `offset` is where it stopped. */
export class PythonLiteralError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'PythonLiteralError';
  }
}

/** Parses one Python literal (surrounding whitespace allowed). Throws {@link PythonLiteralError}. */
export function parsePythonLiteral(text: string): PythonValue {
  const parser = new LiteralParser(text);
  const value = parser.value();
  parser.skipSpace();
  if (!parser.atEnd()) parser.fail('trailing text');
  return value;
}

const SIMPLE_ESCAPES: Record<string, number> = {
  '\\': 0x5c, "'": 0x27, '"': 0x22, n: 0x0a, r: 0x0d, t: 0x09, a: 0x07, b: 0x08, f: 0x0c, v: 0x0b,
};

class LiteralParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  fail(what: string): never {
    throw new PythonLiteralError(`cannot parse Python literal at ${this.pos}: ${what}`, this.pos);
  }

  skipSpace(): void {
    while (!this.atEnd() && /\s/.test(this.text[this.pos] ?? '')) this.pos++;
  }

  value(): PythonValue {
    this.skipSpace();
    const ch = this.text[this.pos];
    if (ch === undefined) this.fail('unexpected end');
    if (ch === '(') return this.sequence(')');
    if (ch === '[') return this.sequence(']');
    if (ch === "'" || ch === '"') return this.str();
    if ((ch === 'b' || ch === 'B') && (this.text[this.pos + 1] === "'" || this.text[this.pos + 1] === '"')) {
      this.pos++;
      return this.bytes();
    }
    for (const [word, value] of [['None', null], ['True', true], ['False', false]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    return this.number();
  }

  private sequence(close: string): PythonValue[] {
    this.pos++;
    const items: PythonValue[] = [];
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === close) {
        this.pos++;
        return items;
      }
      items.push(this.value());
      this.skipSpace();
      const sep = this.text[this.pos];
      if (sep === ',') this.pos++;
      else if (sep !== close) this.fail(`expected , or ${close}`);
    }
  }

  private number(): number | bigint {
    const match = /^[-+]?(\d+(\.\d*)?([eE][-+]?\d+)?|inf|nan)/.exec(this.text.slice(this.pos));
    if (match === null) this.fail('unknown token');
    this.pos += match[0].length;
    const token = match[0];
    if (/^[-+]?\d+$/.test(token)) {
      const asBig = BigInt(token);
      return asBig >= BigInt(Number.MIN_SAFE_INTEGER) && asBig <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(asBig) : asBig;
    }
    if (token.endsWith('inf')) return token.startsWith('-') ? -Infinity : Infinity;
    return Number(token);
  }

  /** Reads the body of a quoted literal, calling `escape` for each backslash sequence. */
  private quoted(onChar: (ch: string) => void, onEscape: (code: number, unicode: boolean) => void): void {
    const quote = this.text[this.pos];
    this.pos++;
    for (;;) {
      const ch = this.text[this.pos];
      if (ch === undefined) this.fail('unterminated string');
      this.pos++;
      if (ch === quote) return;
      if (ch !== '\\') {
        onChar(ch);
        continue;
      }
      const esc = this.text[this.pos];
      if (esc === undefined) this.fail('unterminated escape');
      this.pos++;
      const simple = SIMPLE_ESCAPES[esc];
      if (simple !== undefined) onEscape(simple, false);
      else if (esc === 'x') onEscape(this.hex(2), false);
      else if (esc === 'u') onEscape(this.hex(4), true);
      else if (esc === 'U') onEscape(this.hex(8), true);
      else if (/[0-7]/.test(esc)) {
        let digits = esc;
        while (digits.length < 3 && /[0-7]/.test(this.text[this.pos] ?? '')) digits += this.text[this.pos++];
        onEscape(parseInt(digits, 8), false);
      } else if (esc === '\n') {
        // Line continuation inside a literal: nothing.
      } else {
        onChar('\\');
        onChar(esc);
      }
    }
  }

  private hex(digits: number): number {
    const text = this.text.slice(this.pos, this.pos + digits);
    if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(text)) this.fail('bad hex escape');
    this.pos += digits;
    return parseInt(text, 16);
  }

  private str(): string {
    let out = '';
    this.quoted(
      (ch) => (out += ch),
      (code) => (out += String.fromCodePoint(code)),
    );
    return out;
  }

  private bytes(): Uint8Array {
    const out: number[] = [];
    this.quoted(
      (ch) => {
        const code = ch.charCodeAt(0);
        if (code > 0x7f) this.fail('non-ASCII character in bytes literal');
        out.push(code);
      },
      (code, unicode) => {
        // \u is not an escape in bytes literals and MicroPython's repr never writes one: refuse, don't guess.
        if (unicode) this.fail('\\u escape in bytes literal');
        out.push(code & 0xff);
      },
    );
    return Uint8Array.from(out);
  }
}
