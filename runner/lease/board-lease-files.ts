/**
 * The on-disk layout of FileLeaseStore, and the one operation that makes it race-free: creating the
 * next *generation* of a board's lease record with an exclusive link, which at most one process can win.
 *
 * ```
 * <dir>/<board id>/000000000007.json   the board's latest record (generation 7)
 * <dir>/<board id>/.tmp-…              a record being written (never read)
 * ```
 * Every change — grant, renewal, release, takeover — writes generation N+1 after reading generation N.
 * A record is complete before it becomes visible (written to a temporary file, then `link`ed, which
 * fails with EEXIST if the generation exists), so a reader never sees half a record, and two processes
 * that both judged generation N stale cannot both take the board: one of them loses the link.
 *
 * Old generations are deleted, but only {@link KEPT_GENERATIONS} behind the latest, and a write is
 * checked afterwards: a process that read the board long ago (stalled, stopped with Ctrl-Z) could
 * otherwise re-create a generation that was already deleted and believe it won. Such a write sees a
 * newer generation and counts as lost. The latest generation is never deleted, so generation numbers —
 * and the fencing tokens drawn from them — keep growing for as long as the directory exists.
 */
import { link, mkdir, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { LeaseHolder } from './lease-store.ts';

/** One generation of a board's lease record, as stored in JSON. */
export interface LeaseRecord {
  leaseId: string;
  holder: LeaseHolder;
  /** Fencing token: the generation that granted this lease. */
  token: number;
  ttlMs: number;
  acquiredAtMs: number;
  expiresAtMs: number;
  /** Set by release: the board is free. */
  released?: boolean;
}

/** A board's latest generation; `record` is undefined when the file does not hold a valid record. */
export interface LatestGeneration {
  generation: number;
  record: LeaseRecord | undefined;
}

const GENERATION_FILE = /^(\d{12})\.json$/;
/** How often a read may find its file pruned by a newer generation before giving up. */
const READ_ATTEMPTS = 10;
/**
 * Generations kept below the latest. The lag means a directory listing taken while another process
 * writes and prunes still shows a recent generation, so "is there a newer one?" is answered truly.
 */
export const KEPT_GENERATIONS = 8;

/** Reads and writes lease record generations under one directory. */
export class BoardLeaseFiles {
  constructor(readonly dir: string) {}

  /** The board's latest generation, or undefined when the board was never leased. */
  async latest(boardId: string): Promise<LatestGeneration | undefined> {
    const boardDir = this.boardDir(boardId);
    for (let attempt = 1; ; attempt++) {
      const generation = maxGeneration(await listOrEmpty(boardDir));
      if (generation === undefined) return undefined;
      try {
        return { generation, record: parseRecord(await readFile(generationPath(boardDir, generation), 'utf8')) };
      } catch (err: unknown) {
        // A newer generation appeared and this one was pruned between listing and reading: look again.
        if (!isErrno(err, 'ENOENT') || attempt >= READ_ATTEMPTS) throw err;
      }
    }
  }

  /** Writes generation `generation` of the board's record; false when another process wrote it first. */
  async create(boardId: string, generation: number, record: LeaseRecord): Promise<boolean> {
    const boardDir = this.boardDir(boardId);
    await mkdir(boardDir, { recursive: true });
    const temporary = join(boardDir, `.tmp-${process.pid}-${randomUUID()}`);
    await writeFile(temporary, `${JSON.stringify(record, null, 2)}\n`, { flag: 'wx' });
    const path = generationPath(boardDir, generation);
    try {
      await link(temporary, path);
    } catch (err: unknown) {
      if (isErrno(err, 'EEXIST')) return false;
      throw err;
    } finally {
      await unlink(temporary).catch(() => undefined);
    }
    const names = await listOrEmpty(boardDir);
    const latest = maxGeneration(names) ?? generation;
    if (latest > generation) {
      // Written from a stale view, or overtaken at once: either way this write did not win. A
      // generation that old is garbage (nobody reads below the latest); a recent one may stay.
      if (generation < latest - KEPT_GENERATIONS) await unlink(path).catch(() => undefined);
      return false;
    }
    await this.prune(boardDir, names, generation - KEPT_GENERATIONS);
    return true;
  }

  /** Ids of every board that has a record directory. */
  async boardIds(): Promise<string[]> {
    const names = await listOrEmpty(this.dir);
    return names.filter((name) => !name.startsWith('.')).map(decodeBoardId);
  }

  private boardDir(boardId: string): string {
    return join(this.dir, encodeBoardId(boardId));
  }

  /** Deletes the generations in `names` below `floor` (best effort: another process may be pruning too). */
  private async prune(boardDir: string, names: readonly string[], floor: number): Promise<void> {
    for (const name of names) {
      const older = parseGeneration(name);
      if (older !== undefined && older < floor) await unlink(join(boardDir, name)).catch(() => undefined);
    }
  }
}

/** Board ids become directory names: anything outside [A-Za-z0-9_.~-] is percent-encoded, as is a leading dot. */
function encodeBoardId(boardId: string): string {
  return encodeURIComponent(boardId).replace(/^\./, '%2E');
}

function decodeBoardId(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

function generationPath(boardDir: string, generation: number): string {
  return join(boardDir, `${String(generation).padStart(12, '0')}.json`);
}

function parseGeneration(name: string): number | undefined {
  const match = GENERATION_FILE.exec(name);
  return match ? Number(match[1]) : undefined;
}

function maxGeneration(names: readonly string[]): number | undefined {
  let max: number | undefined;
  for (const name of names) {
    const generation = parseGeneration(name);
    if (generation !== undefined && (max === undefined || generation > max)) max = generation;
  }
  return max;
}

async function listOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err: unknown) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
}

/** A record, or undefined for anything that is not one (a hand-edited or foreign file holds no board). */
function parseRecord(text: string): LeaseRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Partial<LeaseRecord>;
  const holder = record.holder as Partial<LeaseHolder> | undefined;
  const valid = typeof record.leaseId === 'string' && typeof record.token === 'number' && typeof record.ttlMs === 'number'
    && typeof record.acquiredAtMs === 'number' && typeof record.expiresAtMs === 'number'
    && typeof holder === 'object' && holder !== null && typeof holder.user === 'string' && typeof holder.host === 'string'
    && typeof holder.pid === 'number' && typeof holder.command === 'string';
  return valid ? (record as LeaseRecord) : undefined;
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}
