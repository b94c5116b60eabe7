/**
 * Diff flashing: find which 4 KiB sectors of a region differ on the board by comparing MD5 digests
 * the board computes (SPI_FLASH_MD5, reference/esptool-protocol.md §4.8) with local ones, first per
 * 64 KiB block and then per sector inside changed blocks, and coalesce changed sectors into runs to
 * write. esptool has no such mode; it always rewrites whole files.
 */
import { createHash } from 'node:crypto';

/** Flash erase unit: the smallest range a write can change without rewriting neighbours. */
export const SECTOR_BYTES = 0x1000;
/** First-level comparison unit: one MD5 round trip covers 16 sectors. */
export const BLOCK_BYTES = 0x10000;

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
  blockBytes?: number;
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
 * Compares `data` (already word-padded) against flash at `regionOffset` block by block, then sector by
 * sector inside differing blocks, and returns the differing sectors as runs. The caller has already
 * learned that the region as a whole differs. `regionOffset` must be sector-aligned (RangeError).
 */
export async function findChangedRuns(data: Uint8Array, regionOffset: number, boardMd5: BoardMd5, options: FindChangedRunsOptions = {}): Promise<ChangedRuns> {
  const blockBytes = options.blockBytes ?? BLOCK_BYTES;
  const sectorBytes = options.sectorBytes ?? SECTOR_BYTES;
  if (regionOffset % sectorBytes !== 0) throw new RangeError(`region offset 0x${regionOffset.toString(16)} is not sector-aligned`);
  if (blockBytes % sectorBytes !== 0) throw new RangeError('block size must be a multiple of the sector size');
  let boardDigests = 0;
  const differs = async (start: number, length: number): Promise<boolean> => {
    options.signal?.throwIfAborted();
    boardDigests++;
    const remote = await boardMd5(regionOffset + start, length);
    return remote !== md5Hex(data.subarray(start, start + length));
  };
  const changedSectors: number[] = [];
  // Pass 1: one digest per block.
  const changedBlocks: number[] = [];
  for (let blockStart = 0; blockStart < data.length; blockStart += blockBytes) {
    if (await differs(blockStart, Math.min(blockBytes, data.length - blockStart))) changedBlocks.push(blockStart);
  }
  // Pass 2, per sector inside changed blocks — only worth its round trips when few blocks changed;
  // when most did (a new build), the changed blocks are written whole.
  const totalBlocks = Math.ceil(data.length / blockBytes);
  const refine = changedBlocks.length * 2 <= totalBlocks;
  for (const blockStart of changedBlocks) {
    const blockLength = Math.min(blockBytes, data.length - blockStart);
    const firstSector = blockStart / sectorBytes;
    const sectorsInBlock = Math.ceil(blockLength / sectorBytes);
    for (let i = 0; i < sectorsInBlock; i++) {
      const sectorStart = blockStart + i * sectorBytes;
      // A block of one sector needs no second level.
      const changed = !refine || sectorsInBlock === 1 || (await differs(sectorStart, Math.min(sectorBytes, data.length - sectorStart)));
      if (changed) changedSectors.push(firstSector + i);
    }
  }
  return { runs: coalesceSectorRuns(changedSectors, data.length, sectorBytes), boardDigests };
}
