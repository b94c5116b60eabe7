/**
 * Diff flashing: find which 4 KiB sectors of a region differ on the board by comparing MD5 digests
 * the board computes (SPI_FLASH_MD5, reference/esptool-protocol.md §4.8) with local ones — the region
 * split into 8 parts, each differing part split again, down to sectors — and coalesce changed sectors
 * into runs to write. esptool has no such mode; it always rewrites whole files.
 */
import { createHash } from 'node:crypto';

/** Flash erase unit: the smallest range a write can change without rewriting neighbours. */
export const SECTOR_BYTES = 0x1000;
/**
 * Parts a differing range is split into at each level. One changed sector in a 1.5 MB app costs
 * 8 + 8 + 6 digests (one round trip each) instead of 23 block plus 16 sector digests.
 */
export const FANOUT = 8;

/** A byte range relative to the start of a region. */
export interface ByteRun {
  /** Offset from the region start, in bytes. */
  startBytes: number;
  lengthBytes: number;
}

/** Lowercase hex MD5, the form esptool-js returns from `flashMd5sum` and expects from `calculateMD5Hash`. */
export function md5Hex(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

/**
 * Pads `data` with 0xFF to a multiple of 4 bytes, as esptool-js does before writing (§7.1 step 9), so
 * local digests cover exactly the bytes that reach flash.
 */
export function padToWord(data: Uint8Array): Uint8Array {
  const rest = data.length % 4;
  if (rest === 0) return data;
  const out = new Uint8Array(data.length + 4 - rest).fill(0xff);
  out.set(data);
  return out;
}

/**
 * Turns sorted or unsorted changed sector indices into runs of adjacent sectors, each clipped to the
 * region length. Pure.
 */
export function coalesceSectorRuns(changedSectors: readonly number[], regionLengthBytes: number, sectorBytes = SECTOR_BYTES): ByteRun[] {
  const sorted = [...new Set(changedSectors)].sort((a, b) => a - b);
  const runs: ByteRun[] = [];
  for (const sector of sorted) {
    const start = sector * sectorBytes;
    if (start >= regionLengthBytes) continue;
    const end = Math.min(start + sectorBytes, regionLengthBytes);
    const last = runs[runs.length - 1];
    if (last !== undefined && last.startBytes + last.lengthBytes === start) {
      last.lengthBytes = end - last.startBytes;
    } else {
      runs.push({ startBytes: start, lengthBytes: end - start });
    }
  }
  return runs;
}

/** Asks the board for the MD5 (lowercase hex) of `lengthBytes` of flash at absolute `address`. */
export type BoardMd5 = (address: number, lengthBytes: number) => Promise<string>;

/** Options of {@link findChangedRuns}. */
export interface FindChangedRunsOptions {
  sectorBytes?: number;
  signal?: AbortSignal;
}

/** Result of {@link findChangedRuns}: the runs to write and how many digests the board computed. */
export interface ChangedRuns {
  runs: ByteRun[];
  /** Number of MD5 requests sent to the board (each is one command round trip). */
  boardDigests: number;
}

/**
 * Compares `data` (already word-padded) against flash at `regionOffset` and returns the differing
 * sectors as runs. The caller has already learned that the region as a whole differs. The region is
 * split into {@link FANOUT} sector-aligned parts; each differing part is split again until single
 * sectors are reached. When more than half of the first-level parts differ (a new build), those parts
 * are written whole: refining them would cost more round trips than it saves. `regionOffset` must be
 * sector-aligned (RangeError).
 */
export async function findChangedRuns(data: Uint8Array, regionOffset: number, boardMd5: BoardMd5, options: FindChangedRunsOptions = {}): Promise<ChangedRuns> {
  const sectorBytes = options.sectorBytes ?? SECTOR_BYTES;
  if (regionOffset % sectorBytes !== 0) throw new RangeError(`region offset 0x${regionOffset.toString(16)} is not sector-aligned`);
  let boardDigests = 0;
  const differs = async (start: number, length: number): Promise<boolean> => {
    options.signal?.throwIfAborted();
    boardDigests++;
    const remote = await boardMd5(regionOffset + start, length);
    return remote !== md5Hex(data.subarray(start, start + length));
  };
  const changedSectors: number[] = [];
  const markAll = (start: number, length: number): void => {
    for (let at = start; at < start + length; at += sectorBytes) changedSectors.push(at / sectorBytes);
  };
  const refine = async (start: number, length: number, firstLevel: boolean): Promise<void> => {
    if (length <= sectorBytes) {
      markAll(start, length);
      return;
    }
    const partBytes = Math.ceil(Math.ceil(length / sectorBytes) / FANOUT) * sectorBytes;
    const differing: [number, number][] = [];
    let parts = 0;
    for (let at = start; at < start + length; at += partBytes) {
      parts++;
      const partLength = Math.min(partBytes, start + length - at);
      if (await differs(at, partLength)) differing.push([at, partLength]);
    }
    if (firstLevel && differing.length * 2 > parts) {
      for (const [at, partLength] of differing) markAll(at, partLength);
      return;
    }
    for (const [at, partLength] of differing) await refine(at, partLength, false);
  };
  await refine(0, data.length, true);
  return { runs: coalesceSectorRuns(changedSectors, data.length, sectorBytes), boardDigests };
}
