import { describe, expect, it } from 'vitest';
import { BoardExceptionError } from '../../runner/repl/board-exception-error.ts';
import { parsePythonLiteral, PythonLiteralError, pythonBytes, pythonStr } from '../../runner/repl/python-literal.ts';
import { micropythonBytesRepr } from './fake-board-files.ts';

describe('python literals', () => {
  it('parses the reprs MicroPython prints', () => {
    expect(parsePythonLiteral("b'\\x00a\\n\\\\'")).toEqual(Uint8Array.of(0, 0x61, 0x0a, 0x5c));
    expect(parsePythonLiteral('b"it\'s"')).toEqual(new TextEncoder().encode("it's"));
    expect(parsePythonLiteral("'caf\\xe9 ü'")).toBe('café ü');
    expect(parsePythonLiteral("[('a.py', 32768, 0, 12), ('lib', 16384, 0, 0)]")).toEqual([
      ['a.py', 32768, 0, 12],
      ['lib', 16384, 0, 0],
    ]);
    expect(parsePythonLiteral('(None, True, False, -1.5, 1e3, ())')).toEqual([null, true, false, -1.5, 1000, []]);
    expect(parsePythonLiteral('(1,)')).toEqual([1]);
    expect(parsePythonLiteral('123456789012345678901234567890')).toBe(123456789012345678901234567890n);
  });

  it('rejects what is not a literal', () => {
    expect(() => parsePythonLiteral('<function f>')).toThrow(PythonLiteralError);
    expect(() => parsePythonLiteral("'unterminated")).toThrow(PythonLiteralError);
    expect(() => parsePythonLiteral('1 2')).toThrow(/trailing/);
  });

  it('builds literals that survive a repr round trip for every byte value', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(parsePythonLiteral(pythonBytes(all))).toEqual(all);
    expect(parsePythonLiteral(micropythonBytesRepr(all))).toEqual(all);
    const text = "a'b\"c\\d\n\t\x01é";
    expect(pythonStr(text)).toBe("'a\\'b\"c\\\\d\\n\\t\\x01é'");
    expect(parsePythonLiteral(pythonStr(text))).toBe(text);
  });
});

describe('BoardExceptionError', () => {
  it('reads the exception type, message and errno from the traceback', () => {
    const err = new BoardExceptionError(
      'Traceback (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\nOSError: [Errno 2] ENOENT\r\n',
      'out',
      { boardId: 'b1' },
    );
    expect(err).toMatchObject({ code: 'BOARD_EXCEPTION', kind: 'test-failure', exceptionType: 'OSError', exceptionMessage: '[Errno 2] ENOENT', errno: 2 });
    expect(err.traceback.endsWith('OSError: [Errno 2] ENOENT')).toBe(true);
    expect(err.message).toBe('board raised OSError: [Errno 2] ENOENT');
    expect(err.evidence.boardId).toBe('b1');
    expect(new BoardExceptionError('KeyboardInterrupt: \r\n', '').exceptionType).toBe('KeyboardInterrupt');
  });
});
