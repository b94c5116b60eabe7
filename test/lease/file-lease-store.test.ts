import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BoardLeaseFiles, KEPT_GENERATIONS, type LeaseRecord } from '../../runner/lease/board-lease-files.ts';
import { FileLeaseStore } from '../../runner/lease/file-lease-store.ts';
import { describeLeaseStoreContract, granted, holder, ManualClock } from './lease-store-contract.ts';

describeLeaseStoreContract('FileLeaseStore', async (clock) => {
  const dir = mkdtempSync(join(tmpdir(), 'hil-lease-'));
  return {
    open: () => new FileLeaseStore({ dir, clock, hostName: 'this-host', isProcessAlive: () => true }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  if (child.pid === undefined) throw new Error('could not start a child process');
  return child.pid;
}

describe('FileLeaseStore on disk', () => {
  const TTL = 30_000;
  let dir: string;
  let clock: ManualClock;
  const open = (options: { hostName?: string } = {}): FileLeaseStore => new FileLeaseStore({ dir, clock, ...options });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hil-lease-'));
    clock = new ManualClock();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('frees at once a board whose holder process on this host is gone', async () => {
    const gone = { ...holder('bob', deadPid()), host: hostname() };
    const first = granted(await open().tryAcquire({ boardIds: ['s3-a'], holder: gone, ttlMs: TTL }));
    expect(await open().list()).toEqual([]);
    const taker = granted(await open().tryAcquire({ boardIds: ['s3-a'], holder: { ...holder('alice'), host: hostname() }, ttlMs: TTL }));
    expect(taker.tokens['s3-a']).toBeGreaterThan(first.tokens['s3-a'] ?? Infinity);
  });

  it('keeps a board whose holder runs on this host, and one held from another host until its TTL', async () => {
    const alive = { ...holder('bob'), host: hostname() };
    granted(await open().tryAcquire({ boardIds: ['s3-a'], holder: alive, ttlMs: TTL }));
    // The same dead pid on another host says nothing about that host's process: only the TTL frees it.
    const remote = { ...holder('carol', deadPid()), host: `not-${hostname()}` };
    granted(await open().tryAcquire({ boardIds: ['s3-b'], holder: remote, ttlMs: TTL }));
    const result = await open().tryAcquire({ boardIds: ['s3-a', 's3-b'], holder: { ...holder('alice'), host: hostname() }, ttlMs: TTL });
    expect(result.granted ? [] : result.busy.map((info) => info.holder.user)).toEqual(['bob', 'carol']);
    clock.advance(TTL);
    expect(await open().list()).toEqual([]);
  });

  it('keeps token order across store instances and only the last few record files after many renewals', async () => {
    let lease = granted(await open().tryAcquire({ boardIds: ['s3-a'], holder: holder('bob'), ttlMs: TTL }));
    for (let i = 0; i < 20; i++) lease = await open().renew(lease);
    await open().release(lease);
    expect(readdirSync(join(dir, 's3-a')).sort()).toEqual(Array.from({ length: KEPT_GENERATIONS + 1 }, (_, i) => `${String(14 + i).padStart(12, '0')}.json`));
    const next = granted(await open().tryAcquire({ boardIds: ['s3-a'], holder: holder('alice'), ttlMs: TTL }));
    expect(next.tokens['s3-a']).toBeGreaterThan(lease.tokens['s3-a'] ?? Infinity);
  });

  it('treats a record that is not valid JSON as free, and still hands out a greater token', async () => {
    mkdirSync(join(dir, 's3-a'), { recursive: true });
    writeFileSync(join(dir, 's3-a', '000000000041.json'), '{ not json');
    expect(await open().list()).toEqual([]);
    const lease = granted(await open().tryAcquire({ boardIds: ['s3-a'], holder: holder('alice'), ttlMs: TTL }));
    expect(lease.tokens['s3-a']).toBe(42);
  });

  it('does not let a writer with a long-stale view win by re-creating a generation that was pruned', async () => {
    let lease = granted(await open().tryAcquire({ boardIds: ['s3-a'], holder: holder('bob'), ttlMs: TTL }));
    for (let i = 0; i < 2 * KEPT_GENERATIONS; i++) lease = await open().renew(lease);
    // A process that read generation 1 (free) long ago and wakes up now writes generation 2.
    const stale: LeaseRecord = { leaseId: 'stale', holder: holder('sleeper'), token: 2, ttlMs: TTL, acquiredAtMs: clock.nowMs, expiresAtMs: clock.nowMs + TTL };
    const files = new BoardLeaseFiles(dir);
    expect(await files.create('s3-a', 2, stale)).toBe(false);
    expect(readdirSync(join(dir, 's3-a'))).not.toContain('000000000002.json');
    expect((await open().list()).map((info) => info.holder.user)).toEqual(['bob']);
    await open().renew(lease);
  });

  it('grants a contested board to exactly one of many concurrent stores', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      open().tryAcquire({ boardIds: ['s3-a'], holder: holder(`user${i}`), ttlMs: TTL })));
    expect(results.filter((result) => result.granted)).toHaveLength(1);
  });

  it('never leaves half a set taken when overlapping sets race', async () => {
    for (let round = 0; round < 10; round++) {
      const sets = [['a', 'b'], ['b', 'c'], ['c', 'a'], ['a', 'b', 'c']];
      const results = await Promise.all(sets.map((boardIds, i) => open().tryAcquire({ boardIds, holder: holder(`u${i}`), ttlMs: TTL })));
      const winners = results.flatMap((result) => (result.granted ? [result.lease] : []));
      const held = (await open().list()).map((info) => `${info.boardId}:${info.holder.user}`).sort();
      expect(held).toEqual(winners.flatMap((lease) => lease.boardIds.map((id) => `${id}:${lease.holder.user}`)).sort());
      expect(new Set(winners.flatMap((lease) => lease.boardIds)).size).toBe(winners.flatMap((lease) => lease.boardIds).length);
      for (const lease of winners) await open().release(lease);
    }
  });

  it('lists nothing when the lease directory does not exist yet, and keeps odd board ids inside it', async () => {
    expect(await new FileLeaseStore({ dir: join(dir, 'missing'), clock }).list()).toEqual([]);
    granted(await open().tryAcquire({ boardIds: ['..', '1-1.3', 'a/b'], holder: holder('bob'), ttlMs: TTL }));
    expect((await open().list()).map((info) => info.boardId)).toEqual(['..', '1-1.3', 'a/b']);
    expect(readdirSync(dir).sort()).toEqual(['%2E.', '1-1.3', 'a%2Fb']);
  });
});
