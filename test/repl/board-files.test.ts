import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BoardExceptionError } from '../../runner/repl/board-exception-error.ts';
import { MicroPythonRepl } from '../../runner/repl/micropython-repl.ts';
import { FakeBoardFiles, type FakeFilesOptions } from './fake-board-files.ts';
import { FakeBoardLink } from './fake-board-link.ts';

function setup(options: FakeFilesOptions = {}): { fs: FakeBoardFiles; board: FakeBoardLink; repl: MicroPythonRepl } {
  const fs = new FakeBoardFiles(options);
  const board = new FakeBoardLink({ run: fs.run });
  return { fs, board, repl: new MicroPythonRepl(board) };
}

/** Every byte value, twice over, plus quotes and backslashes in awkward places. */
const binary = Uint8Array.from([...Array.from({ length: 600 }, (_, i) => (i * 7) % 256), 0x27, 0x22, 0x5c, 0x27]);

describe('MicroPythonRepl file operations', () => {
  it('putFile writes bytes-literal chunks that arrive intact', async () => {
    const { fs, board, repl } = setup();
    await repl.putFile('/data/blob.bin', binary);
    expect(fs.files.get('/data/blob.bin')).toEqual(binary);
    const codes = board.executed.map((e) => e.code);
    expect(codes[0]).toBe("f=open('/data/blob.bin','wb')\nw=f.write");
    expect(codes.filter((c) => c.startsWith('w(b'))).toHaveLength(Math.ceil(binary.length / 256));
    expect(codes.at(-1)).toBe('f.close()');
  });

  it('getFile reads back what putFile wrote, with custom chunk sizes', async () => {
    const { repl } = setup();
    await repl.putFile('/a.bin', binary, { chunkBytes: 100 });
    expect(await repl.getFile('/a.bin')).toEqual(binary);
    expect(await repl.getFile('/a.bin', { chunkBytes: 1000 })).toEqual(binary);
  });

  it('round-trips empty files and awkward path names', async () => {
    const { fs, repl } = setup();
    const path = "/it's a \\ dir/ünï.txt";
    await repl.putFile(path, new Uint8Array(0));
    expect(fs.files.get(path)).toEqual(new Uint8Array(0));
    expect(await repl.getFile(path)).toEqual(new Uint8Array(0));
  });

  it('getFile of a missing file throws BoardExceptionError with errno 2', async () => {
    const { repl } = setup();
    const err = await repl.getFile('/missing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BoardExceptionError);
    expect(err).toMatchObject({ exceptionType: 'OSError', errno: 2 });
    expect(repl.state).toBe('raw');
  });

  it('lists, hashes and removes files', async () => {
    const { fs, repl } = setup();
    await repl.putFile('/lib/a.py', new TextEncoder().encode('print(1)\n'));
    fs.files.set('/lib/pkg/b.py', Uint8Array.of(1, 2));
    expect(await repl.listDir('/lib')).toEqual([
      { name: 'a.py', kind: 'file', sizeBytes: 9 },
      { name: 'pkg', kind: 'dir' },
    ]);
    expect(await repl.fileHash('/lib/a.py')).toBe(createHash('sha256').update('print(1)\n').digest('hex'));
    await repl.removeFile('/lib/a.py');
    expect(fs.files.has('/lib/a.py')).toBe(false);
    await expect(repl.removeFile('/lib/a.py')).rejects.toMatchObject({ errno: 2 });
  });

  it('hashes on the host when the firmware has no hashlib', async () => {
    const { board, repl, fs } = setup({ noHashlib: true });
    fs.files.set('/x', binary);
    expect(await repl.fileHash('/x')).toBe(createHash('sha256').update(binary).digest('hex'));
    expect(board.executed.some((e) => e.code.startsWith("f=open('/x','rb')"))).toBe(true);
  });

  it('keeps a file operation atomic against concurrent execs', async () => {
    const { fs, repl } = setup();
    const put = repl.putFile('/c.bin', binary, { chunkBytes: 64 });
    const other = repl.exec("f=open('/other','wb')\nw=f.write");
    await Promise.all([put, other]);
    expect(fs.files.get('/c.bin')).toEqual(binary);
  });
});
