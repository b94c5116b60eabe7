/**
 * A MicroPython multi-instance test file (`tests/multi_net/*.py` format): one Python file with
 * `instance0()`, `instance1()`, … entry points and an optional `<file>.exp` with the expected combined
 * output. Rules from /work/shared/reference/micropython-host-protocols.md §6.1 and §6.9.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { HilError } from '../errors.ts';

/** A parsed multitest file with its expectation, ready to run. */
export interface MultitestFile {
  /** Absolute path of the `.py` file. */
  path: string;
  /** The file name, e.g. `10_simple_data.py` (how reports name the test). */
  name: string;
  /** The whole file, sent to every instance unchanged. */
  source: string;
  /** 1 + the highest N of the `def instanceN():` lines. */
  instanceCount: number;
  /** Absolute path where the expectation is looked for: `<path>.exp`. */
  expPath: string;
  /**
   * The expected combined output read from {@link expPath} with universal newlines (as Python's text
   * mode reads it), or undefined when there is no such file — such a test can never pass.
   */
  expected: string | undefined;
}

/**
 * `def instanceN():` at the start of a line; `def instance0_resume():` does not count (§6.1). Python's
 * `re.match` anchors only at the start, so trailing text (a comment) is allowed.
 */
const INSTANCE_DEF = /^def instance([0-9]+)\(\):/;

/**
 * Reads and checks a multitest file and its `.exp`.
 * Errors (bad input, before any board is touched): `SUITE_NOT_FOUND` when the file does not exist or is
 * not a `.py` file, `SUITE_INVALID` when it defines no `instanceN()` function or skips a number.
 */
export function loadMultitestFile(ref: string, cwd: string = process.cwd()): MultitestFile {
  const path = resolve(cwd, ref);
  if (!path.endsWith('.py') || !existsSync(path) || !statSync(path).isFile()) {
    throw new HilError('SUITE_NOT_FOUND', `multitest file ${ref} does not exist or is not a .py file (looked for ${path})`, { file: path });
  }
  const source = readFileSync(path, 'utf8');
  const expPath = `${path}.exp`;
  const expected = existsSync(expPath) ? universalNewlines(readFileSync(expPath, 'utf8')) : undefined;
  return { path, name: basename(path), source, instanceCount: countInstances(source, path), expPath, expected };
}

/**
 * The number of instances `source` declares. Throws `SUITE_INVALID` naming `file` when there is no
 * `def instanceN():` line, or when a number below the highest is missing (upstream would start that
 * instance anyway and fail with a NameError on the board; saying so before touching boards is kinder).
 */
export function countInstances(source: string, file: string): number {
  const found = new Set<number>();
  for (const line of source.split(/\r\n|\r|\n/)) {
    const match = INSTANCE_DEF.exec(line);
    if (match?.[1] !== undefined) found.add(Number(match[1]));
  }
  if (found.size === 0) {
    throw new HilError('SUITE_INVALID', `${file} is not a multitest file: it defines no instance0(), instance1(), … function ` +
      '(each must be a top-level "def instanceN():" line)', { file });
  }
  const count = Math.max(...found) + 1;
  const missing = Array.from({ length: count }, (_, n) => n).filter((n) => !found.has(n));
  if (missing.length > 0) {
    throw new HilError('SUITE_INVALID', `${file} defines instance${Math.max(...found)}() but not ${missing.map((n) => `instance${n}()`).join(', ')}`,
      { file, missing });
  }
  return count;
}

/** `\r\n` and lone `\r` become `\n`, as Python's text-mode `read()` returns them. */
export function universalNewlines(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}
