/**
 * Reads, validates and resolves a bench file. All problems (YAML syntax and schema rules) are reported
 * together in one `CONFIG_INVALID` error naming the file, the key and the rule. The result is
 * deep-frozen: nothing below the loader changes configuration.
 */
import { readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { homedir } from 'node:os';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { HilError } from '../runner/errors.ts';
import { benchSchema, type BenchFile, type BoardConfig } from './schema.ts';

/** A board as the rest of the rig sees it: config plus derived facts. */
export interface BenchBoard extends Omit<BoardConfig, 'mac'> {
  /** USB port path: the board's identity (`<hub portPath>.<hubPort>`). */
  portPath: string;
  /** Configured MAC, or one derived from the bench and board id (virtual benches). */
  mac: string | undefined;
}

export interface Bench extends Omit<BenchFile, 'boards'> {
  /** Absolute path of the file it was read from. */
  file: string;
  boards: BenchBoard[];
  /** Absolute directory for the virtual lab's flash files (virtual benches only). */
  stateDir: string | undefined;
}

/** Where to look for things the loader resolves; injected so nothing below reads `process.env`. */
export interface BenchLoadOptions {
  /** Base directory for default state (`$XDG_STATE_HOME` or `~/.local/state`). */
  stateHome?: string;
}

/** The default bench shipped with the rig: the virtual lab. */
export const DEFAULT_BENCH_FILE = resolve(dirname(new URL(import.meta.url).pathname), 'bench.yaml');

/** Loads a bench file; throws `CONFIG_NOT_FOUND` or `CONFIG_INVALID` (listing every problem). */
export function loadBench(file: string, options: BenchLoadOptions = {}): Bench {
  const path = resolve(file);
  let text: string;
  try {
    if (statSync(path).isDirectory()) throw new HilError('CONFIG_NOT_FOUND', `bench file ${file} is a directory, not a YAML file`, { file: path });
    text = readFileSync(path, 'utf8');
  } catch (err: unknown) {
    if (err instanceof HilError) throw err;
    throw new HilError('CONFIG_NOT_FOUND', `bench file ${file} does not exist or cannot be read`, { file: path }, { cause: err });
  }
  return parseBench(text, path, options);
}

/** Validates bench YAML text; `file` is used in messages and to resolve relative paths. */
export function parseBench(text: string, file: string, options: BenchLoadOptions = {}): Bench {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const at = lineCounter.linePos(e.pos[0]);
      return `${file}:${at.line}:${at.col}: YAML ${e.code}: ${e.message.split('\n')[0]}`;
    });
    throw new HilError('CONFIG_INVALID', `bench file is not valid YAML:\n  ${problems.join('\n  ')}`, { file, problems });
  }
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== 'object') {
    throw new HilError('CONFIG_INVALID', `${file}: must be a YAML mapping with name, kind, hubs and boards (the file is empty or a scalar)`, { file });
  }
  const parsed = benchSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${file}: ${formatPath(issue.path)}: ${describeIssue(issue)}`);
    throw new HilError('CONFIG_INVALID', `bench file has ${problems.length} problem(s):\n  ${problems.join('\n  ')}`, { file, problems });
  }
  return deepFreeze(resolveBench(parsed.data, file, options));
}

function resolveBench(bench: BenchFile, file: string, options: BenchLoadOptions): Bench {
  const hubs = new Map(bench.hubs.map((hub) => [hub.id, hub]));
  const boards = bench.boards.map((board): BenchBoard => ({
    ...board,
    portPath: `${hubs.get(board.hub)?.portPath ?? '?'}.${board.hubPort}`,
    mac: board.mac ?? (bench.kind === 'virtual' ? deriveMac(bench.name, board.id, board.chip) : undefined),
  }));
  let stateDir: string | undefined;
  if (bench.kind === 'virtual') {
    const configured = bench.virtual?.stateDir;
    const stateHome = options.stateHome ?? join(homedir(), '.local', 'state');
    stateDir = configured === undefined
      ? join(stateHome, 'hil', bench.name)
      : isAbsolute(configured) ? configured : resolve(dirname(file), configured.replace(/^~(?=\/)/, homedir()));
  }
  return { ...bench, file, boards, stateDir };
}

/** Espressif OUIs: a stable, plausible factory MAC for a virtual board. */
function deriveMac(benchName: string, boardId: string, chip: string): string {
  const oui = chip === 'esp32s3' ? [0x7c, 0xdf, 0xa1] : [0x24, 0x0a, 0xc4];
  const digest = createHash('sha256').update(`${benchName}/${boardId}`).digest();
  return [...oui, digest[0] ?? 0, digest[1] ?? 0, digest[2] ?? 0].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`)).join('');
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')} (not in the bench schema)`;
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) return `is required (${issue.expected})`;
  return issue.message;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
