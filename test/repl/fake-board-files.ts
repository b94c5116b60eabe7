/**
 * A fake board filesystem that runs the file snippets the REPL client sends (their documented shapes
 * in runner/repl/board-files.ts), answering with MicroPython-style output: `bytes` reprs chosen the way
 * MicroPython's `repr` chooses them, and `OSError: [Errno 2] ENOENT` tracebacks. Its literal parsing
 * is written separately from the client's, so a client bug is not mirrored here.
 */
import { createHash } from 'node:crypto';
import type { FakeRunOutcome } from './fake-board-link.ts';

const TRACEBACK = 'Traceback (most recent call last):\r\n  File "<stdin>", line 2, in <module>\r\n';
const enoent = (): FakeRunOutcome => ({ stderr: `${TRACEBACK}OSError: [Errno 2] ENOENT\r\n` });

/** Parses a `'...'` or `b'...'` literal as the client writes them (single quotes, simple escapes). */
function parseQuoted(literal: string): number[] {
  const body = literal.replace(/^b?'/, '').replace(/'$/, '');
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] ?? '';
    if (ch !== '\\') {
      out.push(...new TextEncoder().encode(ch));
      continue;
    }
    const next = body[++i] ?? '';
    const simple: Record<string, number> = { '\\': 0x5c, "'": 0x27, n: 10, r: 13, t: 9 };
    if (next === 'x') {
      out.push(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (simple[next] !== undefined) {
      out.push(simple[next]);
    } else {
      throw new Error(`fake board: unknown escape \\${next}`);
    }
  }
  return out;
}

/** MicroPython's bytes repr (py/objstr.c `mp_str_print_quoted`): picks `"` when only `'` occurs. */
export function micropythonBytesRepr(data: Uint8Array): string {
  const hasSingle = data.includes(0x27);
  const hasDouble = data.includes(0x22);
  const quote = hasSingle && !hasDouble ? '"' : "'";
  let out = `b${quote}`;
  for (const byte of data) {
    const ch = String.fromCharCode(byte);
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (byte >= 0x20 && byte < 0x7f) out += ch;
    else if (byte === 10) out += '\\n';
    else if (byte === 13) out += '\\r';
    else if (byte === 9) out += '\\t';
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return `${out}${quote}`;
}

export interface FakeFilesOptions {
  /** Firmware without `hashlib`: the hash snippet raises ImportError. */
  noHashlib?: boolean;
}

/** The board's files and the one open file handle the snippets use. */
export class FakeBoardFiles {
  readonly files = new Map<string, Uint8Array>();
  private writing: { path: string; data: number[] } | undefined;
  private reading: { data: Uint8Array; pos: number } | undefined;

  constructor(private readonly options: FakeFilesOptions = {}) {}

  /** Runs one snippet; unknown code is a NameError like on a board. */
  run = (code: string): FakeRunOutcome => {
    let m: RegExpExecArray | null;
    if ((m = /^f=open\(('(?:[^'\\]|\\.)*'),'wb'\)\nw=f\.write$/.exec(code))) {
      this.writing = { path: pathOf(m[1]), data: [] };
      return {};
    }
    if ((m = /^w\((b'(?:[^'\\]|\\.)*')\)$/.exec(code))) {
      if (!this.writing) return { stderr: `${TRACEBACK}NameError: name 'w' isn't defined\r\n` };
      this.writing.data.push(...parseQuoted(m[1] ?? ''));
      return {};
    }
    if (code === 'f.close()') {
      if (this.writing) this.files.set(this.writing.path, Uint8Array.from(this.writing.data));
      this.writing = undefined;
      this.reading = undefined;
      return {};
    }
    if ((m = /^f=open\(('(?:[^'\\]|\\.)*'),'rb'\)\nr=f\.read$/.exec(code))) {
      const data = this.files.get(pathOf(m[1]));
      if (data === undefined) return enoent();
      this.reading = { data, pos: 0 };
      return {};
    }
    if ((m = /^print\(r\((\d+)\)\)$/.exec(code))) {
      if (!this.reading) return { stderr: `${TRACEBACK}NameError: name 'r' isn't defined\r\n` };
      const chunk = this.reading.data.subarray(this.reading.pos, this.reading.pos + Number(m[1]));
      this.reading.pos += chunk.length;
      return { stdout: `${micropythonBytesRepr(chunk)}\r\n` };
    }
    if ((m = /^import os\nos\.remove\(('(?:[^'\\]|\\.)*')\)$/.exec(code))) {
      return this.files.delete(pathOf(m[1])) ? {} : enoent();
    }
    if ((m = /^import os\nprint\(list\(os\.ilistdir\(('(?:[^'\\]|\\.)*')\)\)\)$/.exec(code))) {
      return { stdout: `${this.listing(pathOf(m[1]))}\r\n` };
    }
    if ((m = /^import hashlib\n[\s\S]*open\(('(?:[^'\\]|\\.)*'),'rb'\)[\s\S]*print\(h\.digest\(\)\)$/.exec(code))) {
      if (this.options.noHashlib) return { stderr: `${TRACEBACK}ImportError: no module named 'hashlib'\r\n` };
      const data = this.files.get(pathOf(m[1]));
      if (data === undefined) return enoent();
      return { stdout: `${micropythonBytesRepr(createHash('sha256').update(data).digest())}\r\n` };
    }
    return { stderr: `${TRACEBACK}NameError: name isn't defined\r\n` };
  };

  private listing(dir: string): string {
    const prefix = dir.endsWith('/') ? dir : `${dir}/`;
    const entries = new Map<string, string>();
    for (const [path, data] of this.files) {
      if (!path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash < 0) entries.set(rest, `('${rest}', 32768, 0, ${data.length})`);
      else entries.set(rest.slice(0, slash), `('${rest.slice(0, slash)}', 16384, 0, 0)`);
    }
    return `[${[...entries.values()].join(', ')}]`;
  }
}

function pathOf(literal: string | undefined): string {
  return new TextDecoder().decode(Uint8Array.from(parseQuoted(literal ?? "''")));
}
