/**
 * File operations on the board's filesystem, done the way mpremote's `fs` commands do them (reference
 * §3.4): short Python snippets executed in the raw REPL, data carried as `bytes` literals both ways.
 *
 * Snippet shapes (stable, so board doubles in tests can recognise them):
 *   put:    `f=open(P,'wb')\nw=f.write`, then `w(B)` per chunk, then `f.close()`
 *   get:    `f=open(P,'rb')\nr=f.read`, then `print(r(N))` until it prints `b''`, then `f.close()`
 *   remove: `import os\nos.remove(P)`
 *   list:   `import os\nprint(list(os.ilistdir(P)))`
 *   hash:   `import hashlib` … `print(h.digest())` (see {@link hashSnippet})
 * where P is a `str` literal, B a `bytes` literal and N the chunk size.
 */
import { createHash } from 'node:crypto';
import { HilError } from '../errors.ts';
import { isBoardException } from './board-exception-error.ts';
import { concatBytes } from './byte-text.ts';
import { parsePythonLiteral, pythonBytes, pythonStr, type PythonValue } from './python-literal.ts';
import type { DirEntry, ExecOptions, PythonExecutor } from './repl-types.ts';

/** Options of the transferring operations. `timeoutMs` applies to each round trip, as mpremote's 10 s. */
export interface FileTransferOptions extends ExecOptions {
  /** Bytes per round trip; default 256 (mpremote's value, fits the board's stdin buffer comfortably). */
  chunkBytes?: number;
}

/** `os.ilistdir` type bits (MicroPython: `stat.S_IFDIR` / `S_IFREG`). */
const S_IFDIR = 0x4000;
const S_IFREG = 0x8000;

/** The SHA-256 snippet: hashes on the board in 512-byte reads and prints the digest as `bytes`. */
export function hashSnippet(path: string): string {
  return [
    'import hashlib',
    'h=hashlib.sha256()',
    `f=open(${pythonStr(path)},'rb')`,
    'while 1:',
    ' b=f.read(512)',
    ' if not b:break',
    ' h.update(b)',
    'f.close()',
    'print(h.digest())',
  ].join('\n');
}

/** File operations over any {@link PythonExecutor} (normally `MicroPythonRepl`). */
export class BoardFiles {
  constructor(private readonly executor: PythonExecutor) {}

  /** Writes `data` to `path` on the board, replacing it. Board errors → `BoardExceptionError`. */
  async putFile(path: string, data: Uint8Array, options: FileTransferOptions = {}): Promise<void> {
    const chunkBytes = chunkSize(options);
    await this.executor.execOrThrow(`f=open(${pythonStr(path)},'wb')\nw=f.write`, options);
    for (let offset = 0; offset < data.length; offset += chunkBytes) {
      await this.executor.execOrThrow(`w(${pythonBytes(data.subarray(offset, offset + chunkBytes))})`, options);
    }
    await this.executor.execOrThrow('f.close()', options);
  }

  /** Reads `path` from the board. Board errors (e.g. `OSError` ENOENT) → `BoardExceptionError`. */
  async getFile(path: string, options: FileTransferOptions = {}): Promise<Uint8Array> {
    const chunkBytes = chunkSize(options);
    await this.executor.execOrThrow(`f=open(${pythonStr(path)},'rb')\nr=f.read`, options);
    const parts: Uint8Array[] = [];
    for (;;) {
      const result = await this.executor.execOrThrow(`print(r(${chunkBytes}))`, options);
      const chunk = expectBytes(parseOutput(result.stdout, 'read chunk'), 'read chunk', result.stdout);
      if (chunk.length === 0) break;
      parts.push(chunk);
    }
    await this.executor.execOrThrow('f.close()', options);
    return concatBytes(parts);
  }

  /** Deletes `path` on the board. */
  async removeFile(path: string, options: ExecOptions = {}): Promise<void> {
    await this.executor.execOrThrow(`import os\nos.remove(${pythonStr(path)})`, options);
  }

  /** Lists a directory (names only, not recursive). */
  async listDir(path: string, options: ExecOptions = {}): Promise<DirEntry[]> {
    const result = await this.executor.execOrThrow(`import os\nprint(list(os.ilistdir(${pythonStr(path)})))`, options);
    const value = parseOutput(result.stdout, 'directory listing');
    if (!Array.isArray(value)) throw unexpected('directory listing', result.stdout);
    return value.map((entry) => {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number') {
        throw unexpected('directory entry', result.stdout);
      }
      const typeBits = entry[1];
      const kind: DirEntry['kind'] = typeBits === S_IFDIR ? 'dir' : typeBits === S_IFREG ? 'file' : 'other';
      const out: DirEntry = { name: entry[0], kind };
      const size = entry[3];
      // Directories report 0 (or nothing); only a file's size means anything.
      if (kind === 'file' && typeof size === 'number' && size >= 0) out.sizeBytes = size;
      return out;
    });
  }

  /**
   * SHA-256 of `path` as lowercase hex. Hashes on the board with `hashlib`; when the firmware has no
   * `hashlib.sha256` it falls back to reading the file and hashing here, as mpremote does.
   */
  async fileHash(path: string, options: FileTransferOptions = {}): Promise<string> {
    try {
      const result = await this.executor.execOrThrow(hashSnippet(path), options);
      const digest = expectBytes(parseOutput(result.stdout, 'sha256 digest'), 'sha256 digest', result.stdout);
      return Buffer.from(digest).toString('hex');
    } catch (err: unknown) {
      if (!isBoardException(err, 'ImportError') && !isBoardException(err, 'AttributeError')) throw err;
    }
    const data = await this.getFile(path, options);
    return createHash('sha256').update(data).digest('hex');
  }
}

function chunkSize(options: FileTransferOptions): number {
  const bytes = options.chunkBytes ?? 256;
  if (!Number.isInteger(bytes) || bytes < 1) throw new RangeError(`chunkBytes must be a positive integer, got ${bytes}`);
  return bytes;
}

function parseOutput(stdout: string, what: string): PythonValue {
  try {
    return parsePythonLiteral(stdout);
  } catch (err: unknown) {
    throw unexpected(what, stdout, err);
  }
}

function expectBytes(value: PythonValue, what: string, stdout: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw unexpected(what, stdout);
  return value;
}

function unexpected(what: string, stdout: string, cause?: unknown): HilError {
  // The board printed something our own snippet cannot produce: the conversation is out of step.
  return new HilError('REPL_PROTOCOL', `unexpected ${what} from the board: ${stdout.slice(0, 200)}`, { phase: what }, { cause });
}
