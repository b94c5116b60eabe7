import { describe, expect, it } from 'vitest';
import { SECTOR_BYTES, coalesceSectorRuns, findChangedRuns, md5Hex, padToWord } from '../../runner/flash/sector-diff.ts';

describe('coalesceSectorRuns', () => {
  it('joins adjacent sectors, keeps gaps, sorts and dedups', () => {
    expect(coalesceSectorRuns([5, 1, 2, 2, 3, 9], 0x10000)).toEqual([
      { startBytes: 0x1000, lengthBytes: 0x3000 },
      { startBytes: 0x5000, lengthBytes: 0x1000 },
      { startBytes: 0x9000, lengthBytes: 0x1000 },
    ]);
  });
  it('clips the last run to the region and drops sectors past it', () => {
    expect(coalesceSectorRuns([1, 2, 7], 0x2800)).toEqual([{ startBytes: 0x1000, lengthBytes: 0x1800 }]);
  });
  it('returns nothing for no changes', () => {
    expect(coalesceSectorRuns([], 0x10000)).toEqual([]);
  });
});

describe('padToWord', () => {
  it('pads with 0xFF to a multiple of 4', () => {
    expect(Array.from(padToWord(Uint8Array.of(1, 2, 3, 4, 5)))).toEqual([1, 2, 3, 4, 5, 0xff, 0xff, 0xff]);
    const aligned = Uint8Array.of(1, 2, 3, 4);
    expect(padToWord(aligned)).toBe(aligned);
  });
});

/** A flash array answering MD5 requests like SPI_FLASH_MD5, and counting them. */
function boardOf(flash: Uint8Array, baseOffset: number) {
  const requests: [number, number][] = [];
  const md5 = async (address: number, length: number): Promise<string> => {
    requests.push([address, length]);
    return md5Hex(flash.subarray(address - baseOffset, address - baseOffset + length));
  };
  return { md5, requests };
}

function pseudoRandom(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('findChangedRuns', () => {
  const offset = 0x10000;
  const local = pseudoRandom(0x50000 + 0x700, 1); // 80 sectors and a partial one

  it('finds one changed sector by splitting the region eightfold, level by level', async () => {
    const board = local.slice();
    board[0x23456] = (board[0x23456] ?? 0) ^ 0xff;
    const b = boardOf(board, offset);
    const { runs, boardDigests } = await findChangedRuns(local, offset, b.md5);
    expect(runs).toEqual([{ startBytes: 0x23000, lengthBytes: SECTOR_BYTES }]);
    // 81 sectors → 8 parts of 11 sectors; sectors 33–43 → 6 parts of 2; sectors 35–36 → 2 single sectors.
    expect(boardDigests).toBe(8 + 6 + 2);
    expect(b.requests).toHaveLength(boardDigests);
    expect(b.requests[0]).toEqual([offset, 11 * SECTOR_BYTES]);
    expect(b.requests.slice(-2)).toEqual([[offset + 0x23000, SECTOR_BYTES], [offset + 0x24000, SECTOR_BYTES]]);
  });

  it('coalesces changes spanning a block boundary and finds the partial last sector', async () => {
    const board = local.slice();
    board[0x1ffff] = (board[0x1ffff] ?? 0) ^ 1;
    board[0x20000] = (board[0x20000] ?? 0) ^ 1;
    board[0x50010] = (board[0x50010] ?? 0) ^ 1;
    const { runs } = await findChangedRuns(local, offset, boardOf(board, offset).md5);
    expect(runs).toEqual([
      { startBytes: 0x1f000, lengthBytes: 0x2000 },
      { startBytes: 0x50000, lengthBytes: 0x700 },
    ]);
  });

  it('reports every sector of erased flash from the first-level digests alone when most parts changed', async () => {
    const board = new Uint8Array(local.length).fill(0xff);
    const { runs, boardDigests } = await findChangedRuns(local, offset, boardOf(board, offset).md5);
    expect(runs).toEqual([{ startBytes: 0, lengthBytes: local.length }]);
    expect(boardDigests).toBe(8); // refining a mostly-new region costs more round trips than it saves
  });

  it('writes first-level parts whole when more than half changed, and keeps unchanged parts out', async () => {
    const board = local.slice();
    // Sectors 0, 16, 32, 48, 60: parts 0 (0–10), 1 (11–21), 2 (22–32), 4 (44–54), 5 (55–65) of 8.
    for (const at of [0x00010, 0x10010, 0x20010, 0x30010, 0x3c010]) board[at] = (board[at] ?? 0) ^ 1;
    const { runs, boardDigests } = await findChangedRuns(local, offset, boardOf(board, offset).md5);
    expect(runs).toEqual([{ startBytes: 0, lengthBytes: 33 * SECTOR_BYTES }, { startBytes: 44 * SECTOR_BYTES, lengthBytes: 22 * SECTOR_BYTES }]);
    expect(boardDigests).toBe(8);
  });

  it('refines each differing part when at most half changed', async () => {
    const board = local.slice();
    for (const at of [0x00010, 0x10010, 0x20010, 0x30010]) board[at] = (board[at] ?? 0) ^ 1; // 4 of 8 parts
    const { runs } = await findChangedRuns(local, offset, boardOf(board, offset).md5);
    expect(runs).toEqual([0x00000, 0x10000, 0x20000, 0x30000].map((startBytes) => ({ startBytes, lengthBytes: SECTOR_BYTES })));
  });

  it('rejects an unaligned region and honours abort', async () => {
    await expect(findChangedRuns(local, 0x10010, async () => '')).rejects.toThrow(RangeError);
    const ctl = new AbortController();
    ctl.abort();
    await expect(findChangedRuns(local, offset, async () => '', { signal: ctl.signal })).rejects.toThrow();
  });
});
