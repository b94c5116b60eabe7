import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HilError, isHilError } from '../../runner/errors.ts';
import { BoardLeaser, type WaitingReason } from '../../runner/lease/board-leaser.ts';
import type { HeldLease } from '../../runner/lease/held-lease.ts';
import { LeaseErrorCodes } from '../../runner/lease/lease-errors.ts';
import type { Lease, LeaseHolder, LeaseStore } from '../../runner/lease/lease-store.ts';
import { MemoryLeaseStore } from '../../runner/lease/memory-lease-store.ts';
import { granted } from './lease-store-contract.ts';

const ALICE: LeaseHolder = { user: 'alice', host: 'bench1', pid: 4242, command: 'hil run suites/espnow' };
const BOB: LeaseHolder = { user: 'bob', host: 'bench1', pid: 5151, command: 'hil run suites/smoke' };
const CAROL: LeaseHolder = { user: 'carol', host: 'bench2', pid: 77, command: 'hil flash fw.bin' };
const TTL = 30_000;
const POLL = 1_000;

/** Settles a promise into a value or the error it rejected with, so rejections are never unhandled. */
function settle<T>(promise: Promise<T>): Promise<T | unknown> {
  return promise.then((value) => value, (err: unknown) => err);
}

describe('BoardLeaser', () => {
  let store: MemoryLeaseStore;
  let leaser: BoardLeaser;
  beforeEach(() => {
    vi.useFakeTimers();
    store = new MemoryLeaseStore();
    leaser = new BoardLeaser({ store, holder: BOB, ttlMs: TTL, pollMs: POLL });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('leases free boards at once, with their fencing tokens', async () => {
    const held = await leaser.acquire({ boardIds: ['s3-a', 'esp32-a'] });
    expect(held.boardIds).toEqual(['esp32-a', 's3-a']);
    expect(held.tokens).toEqual({ 'esp32-a': 1, 's3-a': 1 });
    expect((await store.list()).map((info) => info.holder)).toEqual([BOB, BOB]);
    await held.release();
  });

  it('waits with a reason naming the holder, then takes the boards when they are released', async () => {
    const alices = granted(await store.tryAcquire({ boardIds: ['s3-a'], holder: ALICE, ttlMs: 25_000 }));
    const reasons: WaitingReason[] = [];
    const acquiring = settle(leaser.acquire({ boardIds: ['s3-a', 's3-b'] }, { onWaiting: (reason) => reasons.push(reason) }));
    await vi.advanceTimersByTimeAsync(5 * POLL);
    expect(reasons.map((reason) => reason.message)).toEqual([
      'waiting for s3-a (leased by alice@bench1 pid 4242, `hil run suites/espnow`, expires in 25 s)',
    ]);
    expect(await store.list()).toHaveLength(1); // nothing half-taken while waiting
    await store.release(alices);
    await vi.advanceTimersByTimeAsync(POLL);
    const held = await acquiring;
    expect(held).toMatchObject({ boardIds: ['s3-a', 's3-b'], tokens: { 's3-a': 2, 's3-b': 1 } });
    await (held as HeldLease).release();
  });

  it('tells again when the board it waits for changes hands', async () => {
    const alices = granted(await store.tryAcquire({ boardIds: ['s3-a'], holder: ALICE, ttlMs: TTL }));
    const reasons: WaitingReason[] = [];
    const acquiring = settle(leaser.acquire({ boardIds: ['s3-a'] }, { onWaiting: (reason) => reasons.push(reason) }));
    await vi.advanceTimersByTimeAsync(1_500);
    // Alice hands the board straight to Carol, between two polls.
    await store.release(alices);
    const carols = granted(await store.tryAcquire({ boardIds: ['s3-a'], holder: CAROL, ttlMs: TTL }));
    await vi.advanceTimersByTimeAsync(3 * POLL);
    expect(reasons.map((reason) => reason.busy[0]?.holder.user)).toEqual(['alice', 'carol']);
    expect(reasons[1]?.waitedMs).toBe(2_000);
    await store.release(carols);
    await vi.advanceTimersByTimeAsync(POLL);
    const held = await acquiring;
    expect(held).toMatchObject({ boardIds: ['s3-a'], tokens: { 's3-a': 3 } });
    await (held as HeldLease).release();
  });

  it('fails at once with noWait, naming each busy board and its holder', async () => {
    granted(await store.tryAcquire({ boardIds: ['s3-a'], holder: ALICE, ttlMs: 25_000 }));
    granted(await store.tryAcquire({ boardIds: ['s3-c'], holder: CAROL, ttlMs: 180_000 }));
    const error = await settle(leaser.acquire({ boardIds: ['s3-a', 's3-b', 's3-c'] }, { noWait: true }));
    expect(isHilError(error, LeaseErrorCodes.busy)).toBe(true);
    expect((error as HilError).message).toBe('2 boards are in use and not waiting (no-wait): ' +
      's3-a (leased by alice@bench1 pid 4242, `hil run suites/espnow`, expires in 25 s); ' +
      's3-c (leased by carol@bench2 pid 77, `hil flash fw.bin`, expires in 3 min)');
    expect((error as HilError).evidence).toMatchObject({ boardId: 's3-a', phase: 'lease' });
    expect((await store.list()).map((info) => info.boardId)).toEqual(['s3-a', 's3-c']);
  });

  it('gives up after waitTimeoutMs with the boards still in use', async () => {
    granted(await store.tryAcquire({ boardIds: ['s3-a'], holder: ALICE, ttlMs: 600_000 }));
    const acquiring = settle(leaser.acquire({ boardIds: ['s3-a'] }, { waitTimeoutMs: 5_000 }));
    await vi.advanceTimersByTimeAsync(5_000);
    const error = await acquiring;
    expect(isHilError(error, LeaseErrorCodes.busy)).toBe(true);
    expect((error as Error).message).toMatch(/^gave up after waiting 5 s: 1 board is still in use: s3-a \(leased by alice@bench1/);
  });

  it('stops waiting when aborted, passing the caller\'s own HilError through', async () => {
    granted(await store.tryAcquire({ boardIds: ['s3-a'], holder: ALICE, ttlMs: 600_000 }));
    const controller = new AbortController();
    const acquiring = settle(leaser.acquire({ boardIds: ['s3-a'] }, { signal: controller.signal }));
    await vi.advanceTimersByTimeAsync(3 * POLL);
    const reason = new HilError('ABORTED', 'run interrupted by SIGINT');
    controller.abort(reason);
    expect(await acquiring).toBe(reason);
    const plain = new AbortController();
    plain.abort();
    expect(await settle(leaser.acquire({ boardIds: ['s3-a'] }, { signal: plain.signal }))).toMatchObject({ code: 'ABORTED' });
  });

  it('takes any N free boards of a list, and waits with a count when too few are free', async () => {
    granted(await store.tryAcquire({ boardIds: ['s3-a'], holder: ALICE, ttlMs: 25_000 }));
    const two = await leaser.acquire({ anyOf: ['s3-a', 's3-b', 's3-c'], count: 2 });
    expect(two.boardIds).toEqual(['s3-b', 's3-c']);
    await two.release();
    const reasons: string[] = [];
    const three = settle(leaser.acquire({ anyOf: ['s3-a', 's3-b', 's3-c'], count: 3 }, { onWaiting: (r) => reasons.push(r.message) }));
    await vi.advanceTimersByTimeAsync(25_000);
    expect(reasons[0]).toBe('waiting for 3 of s3-a, s3-b, s3-c (2 free): s3-a (leased by alice@bench1 pid 4242, `hil run suites/espnow`, expires in 25 s)');
    const all = await three;
    expect(all).toMatchObject({ boardIds: ['s3-a', 's3-b', 's3-c'] });
    await (all as HeldLease).release();
    await expect(leaser.acquire({ anyOf: ['s3-a', 's3-b'], count: 3 })).rejects.toMatchObject({ code: 'NOT_ENOUGH_BOARDS' });
    await expect(leaser.acquire({ anyOf: ['s3-a'], count: 1.5 })).rejects.toMatchObject({ code: 'USAGE' });
  });
});

describe('HeldLease heartbeat', () => {
  let store: MemoryLeaseStore;
  beforeEach(() => {
    vi.useFakeTimers();
    store = new MemoryLeaseStore();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** The memory store, counting renewals and optionally failing them. */
  function countingStore(failWith?: () => Error): LeaseStore & { renewals: number } {
    const wrapper = {
      renewals: 0,
      tryAcquire: store.tryAcquire.bind(store),
      release: store.release.bind(store),
      list: store.list.bind(store),
      async renew(lease: Lease): Promise<Lease> {
        wrapper.renewals += 1;
        if (failWith) throw failWith();
        return store.renew(lease);
      },
    };
    return wrapper;
  }

  it('renews every third of the TTL, keeping the boards past many TTLs, and stops on release', async () => {
    const counting = countingStore();
    const held = await new BoardLeaser({ store: counting, holder: BOB, ttlMs: 3_000 }).acquire({ boardIds: ['s3-a'] });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(counting.renewals).toBe(10);
    expect(held.lease.expiresAtMs).toBeGreaterThan(Date.now());
    expect((await store.tryAcquire({ boardIds: ['s3-a'], holder: ALICE, ttlMs: TTL })).granted).toBe(false);
    await held.release();
    await held.release();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(counting.renewals).toBe(10);
    expect(await store.list()).toEqual([]);
  });

  it('reports a lease taken over behind its back once, naming the new holder, and keeps the taker\'s lease on release', async () => {
    const lost: HilError[] = [];
    const held = await new BoardLeaser({ store, holder: BOB, ttlMs: 3_000 }).acquire({ boardIds: ['s3-a'] }, { onLost: (err) => lost.push(err) });
    await store.release(held.lease); // e.g. an operator cleared it
    const carols = granted(await store.tryAcquire({ boardIds: ['s3-a'], holder: CAROL, ttlMs: TTL }));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(lost).toHaveLength(1);
    expect(lost[0]?.code).toBe(LeaseErrorCodes.lost);
    expect(lost[0]?.message).toBe(`lost the lease on board s3-a: it is now leased by carol@bench2 pid 77, \`hil flash fw.bin\`, expires in 29 s (token ${carols.tokens['s3-a']}); stop using the board`);
    expect(held.lost).toBe(true);
    await held.release();
    expect((await store.list()).map((info) => info.token)).toEqual([carols.tokens['s3-a']]);
  });

  it('retries a failing store while the lease runs, and reports it lost once it has expired', async () => {
    const failing = countingStore(() => new Error('disk full'));
    const lost: HilError[] = [];
    const held = await new BoardLeaser({ store: failing, holder: BOB, ttlMs: 3_000 }).acquire({ boardIds: ['s3-a'] }, { onLost: (err) => lost.push(err) });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(failing.renewals).toBe(2);
    expect(lost).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(lost).toHaveLength(1);
    expect(lost[0]?.code).toBe(LeaseErrorCodes.lost);
    expect(lost[0]?.message).toContain('could not be renewed before it expired (disk full)');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(failing.renewals).toBe(3);
    await held.release();
  });
});
