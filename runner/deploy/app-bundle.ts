/**
 * An application bundle: the `.py`/`.mpy` files a team deploys onto the board filesystem, separately
 * from the (large) MicroPython firmware. Read from a folder or a `.zip`; every path is checked to stay
 * inside the bundle root before anything is deployed.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { unzipSync } from 'fflate';
import { HilError } from '../errors.ts';

export interface AppFile {
  /** Absolute board path, e.g. `/main.py`, `/lib/sensor.mpy`. */
  boardPath: string;
  data: Uint8Array;
  /** Lowercase hex SHA-256 of `data`. */
  sha256: string;
}

export interface AppBundle {
  /** The folder or zip it was read from. */
  source: string;
  files: AppFile[];
  totalBytes: number;
}

/** Loads a bundle from a folder or a `.zip` file. Errors are bad input (`APP_BUNDLE_INVALID`) naming the problem. */
export function loadAppBundle(path: string): AppBundle {
  const source = resolve(path);
  if (!existsSync(source)) throw invalid(source, 'does not exist');
  const entries = statSync(source).isDirectory() ? readFolder(source) : readZip(source);
  if (entries.length === 0) throw invalid(source, 'contains no files');
  const files = entries
    .map(({ path: relativePath, data }) => ({ boardPath: `/${relativePath}`, data, sha256: createHash('sha256').update(data).digest('hex') }))
    .sort((a, b) => a.boardPath.localeCompare(b.boardPath));
  return { source, files, totalBytes: files.reduce((sum, file) => sum + file.data.length, 0) };
}

/** A bundle-relative path with `/` separators, or an error when it would leave the bundle root. */
function checkedRelativePath(source: string, path: string): string {
  const normalised = path.replace(/\\/g, '/');
  const parts = normalised.split('/').filter((part) => part !== '' && part !== '.');
  if (normalised.startsWith('/') || /^[A-Za-z]:/.test(normalised) || parts.includes('..')) {
    throw invalid(source, `path "${path}" escapes the bundle root`);
  }
  if (parts.some((part) => /[\x00-\x1f]/.test(part))) throw invalid(source, `path "${path}" has control characters`);
  return parts.join('/');
}

function readFolder(root: string): { path: string; data: Uint8Array }[] {
  const realRoot = realpathSync(root);
  const out: { path: string; data: Uint8Array }[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const info = lstatSync(full);
      if (info.isSymbolicLink()) {
        const target = realpathSync(full);
        if (target !== realRoot && !target.startsWith(realRoot + sep)) throw invalid(root, `symlink ${relative(root, full)} escapes the bundle root`);
      }
      const resolved = statSync(full);
      if (resolved.isDirectory()) walk(full);
      else if (resolved.isFile()) out.push({ path: checkedRelativePath(root, relative(root, full)), data: new Uint8Array(readFileSync(full)) });
    }
  };
  walk(root);
  return out;
}

function readZip(file: string): { path: string; data: Uint8Array }[] {
  if (!file.toLowerCase().endsWith('.zip')) throw invalid(file, 'is neither a folder nor a .zip file');
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(new Uint8Array(readFileSync(file)));
  } catch (err: unknown) {
    throw invalid(file, `is not a readable zip file (${err instanceof Error ? err.message : String(err)})`);
  }
  return Object.entries(entries)
    .filter(([name]) => !name.endsWith('/'))
    .map(([name, data]) => ({ path: checkedRelativePath(file, name), data }));
}

function invalid(source: string, problem: string): HilError {
  return new HilError('APP_BUNDLE_INVALID', `application bundle ${source} ${problem}`, { file: source });
}
