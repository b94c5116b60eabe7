/**
 * Deploys an application bundle onto a board's filesystem over the REPL: only files whose hash differs
 * are written, every bundle file is verified by SHA-256 on the board, files that an earlier deployment
 * wrote and the bundle no longer has are deleted, and a bundle that does not fit is refused before
 * anything is written. Earlier deployments are remembered in a manifest on the board
 * ({@link MANIFEST_PATH}). `boot.py`/`main.py` take effect on the board's next reset, as on hardware.
 */
import { HilError } from '../errors.ts';
import type { MicroPythonRepl } from '../repl/micropython-repl.ts';
import type { AppBundle } from './app-bundle.ts';

/** Where the board keeps the list of files the last deployment wrote. */
export const MANIFEST_PATH = '/.hil-app.json';

export interface DeployReport {
  written: string[];
  unchanged: string[];
  deleted: string[];
  bytesWritten: number;
}

export interface DeployOptions {
  boardId: string;
  /** Deadline of each board round trip; default 20 s. */
  timeoutMs?: number;
  onProgress?: (message: string) => void;
}

/** What the board reports before a deployment. */
interface BoardState {
  /** SHA-256 per asked path; null when the file does not exist. */
  hashes: Record<string, string | null>;
  /** Sizes of existing files, to know what a rewrite frees. */
  sizes: Record<string, number>;
  freeBytes: number;
  manifest: string[];
}

export async function deployApp(repl: MicroPythonRepl, bundle: AppBundle, options: DeployOptions): Promise<DeployReport> {
  const io = { timeoutMs: options.timeoutMs ?? 20_000 };
  const state = await readBoardState(repl, bundle.files.map((f) => f.boardPath), io.timeoutMs);
  const changed = bundle.files.filter((file) => state.hashes[file.boardPath] !== file.sha256);
  const bundlePaths = new Set(bundle.files.map((f) => f.boardPath));
  const removed = state.manifest.filter((path) => !bundlePaths.has(path) && path !== MANIFEST_PATH);

  // Capacity first: what the changed files need, less what they and the removed files free.
  const needed = changed.reduce((sum, file) => sum + file.data.length, 0);
  const freed = [...changed.map((f) => f.boardPath), ...removed].reduce((sum, path) => sum + (state.sizes[path] ?? 0), 0);
  const manifestBytes = JSON.stringify(bundle.files.map((f) => f.boardPath)).length;
  if (needed + manifestBytes > state.freeBytes + freed) {
    throw new HilError('APP_TOO_LARGE', `application bundle ${bundle.source} needs ${needed + manifestBytes} bytes on board ` +
      `${options.boardId} but its filesystem has ${state.freeBytes + freed} bytes free (after replacing files); nothing was written`,
    { boardId: options.boardId, file: bundle.source });
  }

  let bytesWritten = 0;
  for (const [index, file] of changed.entries()) {
    options.onProgress?.(`deploying ${file.boardPath} (${index + 1}/${changed.length}, ${file.data.length} bytes)`);
    await makeParents(repl, file.boardPath, io.timeoutMs);
    await repl.putFile(file.boardPath, file.data, io);
    bytesWritten += file.data.length;
  }
  // Every bundle file is verified on the board, the unchanged ones included.
  const after = await readBoardState(repl, bundle.files.map((f) => f.boardPath), io.timeoutMs);
  const wrong = bundle.files.filter((file) => after.hashes[file.boardPath] !== file.sha256);
  if (wrong.length > 0) {
    throw new HilError('APP_DEPLOY_FAILED', `board ${options.boardId}: ${wrong.map((f) => f.boardPath).join(', ')} did not verify by SHA-256 after writing`,
      { boardId: options.boardId, phase: 'verify application files', file: bundle.source });
  }
  for (const path of removed) {
    options.onProgress?.(`deleting ${path} (no longer in the bundle)`);
    await repl.execOrThrow(`import os\ntry:\n    os.remove(${JSON.stringify(path)})\nexcept OSError:\n    pass`, io);
  }
  await repl.putFile(MANIFEST_PATH, new TextEncoder().encode(JSON.stringify(bundle.files.map((f) => f.boardPath))), io);
  return {
    written: changed.map((f) => f.boardPath),
    unchanged: bundle.files.filter((f) => !changed.includes(f)).map((f) => f.boardPath),
    deleted: removed,
    bytesWritten,
  };
}

/** Board-side: hashes and sizes of `paths`, free space, and the last deployment's manifest, as one JSON line. */
async function readBoardState(repl: MicroPythonRepl, paths: readonly string[], timeoutMs: number): Promise<BoardState> {
  const code = [
    'import os, json, hashlib, binascii',
    'def _hil_hash(p):',
    '    try:',
    "        f = open(p, 'rb')",
    '    except OSError:',
    '        return None, 0',
    '    d = hashlib.sha256()',
    '    n = 0',
    '    while True:',
    '        b = f.read(1024)',
    '        if not b:',
    '            break',
    '        n += len(b)',
    '        d.update(b)',
    '    f.close()',
    '    return binascii.hexlify(d.digest()).decode(), n',
    `_hil_paths = ${JSON.stringify(paths)}`,
    'try:',
    `    with open(${JSON.stringify(MANIFEST_PATH)}) as f:`,
    '        _hil_manifest = json.loads(f.read())',
    'except (OSError, ValueError):',
    '    _hil_manifest = []',
    '_hil_h = {}',
    '_hil_s = {}',
    'for p in _hil_paths + _hil_manifest:',
    '    _hil_h[p], _hil_s[p] = _hil_hash(p)',
    "_hil_v = os.statvfs('/')",
    "print(json.dumps({'hashes': _hil_h, 'sizes': _hil_s, 'freeBytes': _hil_v[0] * _hil_v[4], 'manifest': _hil_manifest}))",
  ].join('\n');
  const result = await repl.execOrThrow(code, { timeoutMs });
  return JSON.parse(result.stdout.trim()) as BoardState;
}

async function makeParents(repl: MicroPythonRepl, boardPath: string, timeoutMs: number): Promise<void> {
  const dirs = boardPath.split('/').slice(1, -1).map((_, i, parts) => `/${parts.slice(0, i + 1).join('/')}`);
  if (dirs.length === 0) return;
  await repl.execOrThrow(`import os\nfor d in ${JSON.stringify(dirs)}:\n    try:\n        os.mkdir(d)\n    except OSError:\n        pass`, { timeoutMs });
}
