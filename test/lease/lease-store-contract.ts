/**
 * The behaviour every LeaseStore backend must show (file, memory, and later Redis). Time comes from a
 * hand-moved clock, so expiry is tested without waiting.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isHilError } from '../../runner/errors.ts';
import { LeaseErrorCodes } from '../../runner/lease/lease-errors.ts';
import type { Lease, LeaseHolder, LeaseStore } from '../../runner/lease/lease-store.ts';

/** A clock the test moves by hand. */
export class ManualClock {
  nowMs = 1_700_000_000_000;
  now(): number {
    return this.nowMs;
  }
  advance(ms: number): void {
    this.nowMs += ms;
  }
}

export interface StoreFixture {
  /** A store; stores made by one fixture share their leases (like two processes on one host). */
  open(): LeaseStore;
  cleanup(): Promise<void>;
}

export function holder(user: string, pid = process.pid, command = `hil run suites/${user}`): LeaseHolder {
  return { user, host: 'this-host', pid, command };
}

export function granted(result: Awaited<ReturnType<LeaseStore['tryAcquire']>>): Lease {
  if (!result.granted) throw new Error(`expected a grant, got busy ${JSON.stringify(result.busy)}`);
  return result.lease;
}

export function describeLeaseStoreContract(name: string, makeFixture: (clock: ManualClock) => Promise<StoreFixture>): void {
  describe(`${name}: LeaseStore contract`, () => {
    const TTL = 30_000;
    let clock: ManualClock;
    let fixture: StoreFixture;
    let store: LeaseStore;
    beforeEach(async () => {
      clock = new ManualClock();
      fixture = await makeFixture(clock);
      store = fixture.open();
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it('grants every requested board, sorted and without duplicates, and lists the holder', async () => {
      const alice = holder('alice');
      const lease = granted(await store.tryAcquire({ boardIds: ['s3-b', 's3-a', 's3-b'], holder: alice, ttlMs: TTL }));
      expect(lease.boardIds).toEqual(['s3-a', 's3-b']);
      expect(lease.expiresAtMs).toBe(clock.nowMs + TTL);
      expect(Object.keys(lease.tokens).sort()).toEqual(['s3-a', 's3-b']);
      const listed = await fixture.open().list();
      expect(listed.map((info) => [info.boardId, info.holder, info.token, info.expiresAtMs]))
        .toEqual([['s3-a', alice, lease.tokens['s3-a'], lease.expiresAtMs], ['s3-b', alice, lease.tokens['s3-b'], lease.expiresAtMs]]);
    });

    it('is all-or-nothing: one busy board means none is taken, and the busy one is named', async () => {
      const bob = holder('bob');
      const bobs = granted(await store.tryAcquire({ boardIds: ['s3-b'], holder: bob, ttlMs: TTL }));
      const result = await fixture.open().tryAcquire({ boardIds: ['s3-a', 's3-b', 's3-c'], holder: holder('alice'), ttlMs: TTL });
      expect(result).toEqual({ granted: false, busy: [{ boardId: 's3-b', holder: bob, token: bobs.tokens['s3-b'], acquiredAtMs: clock.nowMs, expiresAtMs: bobs.expiresAtMs }] });
      expect((await store.list()).map((info) => info.boardId)).toEqual(['s3-b']);
      granted(await store.tryAcquire({ boardIds: ['s3-a', 's3-c'], holder: holder('carol'), ttlMs: TTL }));
    });

    it('frees a board whose TTL passed without renewal, and the taker gets a greater token', async () => {
      const first = granted(await store.tryAcquire({ boardIds: ['s3-a'], holder: holder('bob'), ttlMs: TTL }));
      clock.advance(TTL - 1);
      expect((await fixture.open().tryAcquire({ boardIds: ['s3-a'], holder: holder('alice'), ttlMs: TTL })).granted).toBe(false);
      clock.advance(1);
      expect(await store.list()).toEqual([]);
      const second = granted(await fixture.open().tryAcquire({ boardIds: ['s3-a'], holder: holder('alice'), ttlMs: TTL }));
      expect(second.tokens['s3-a']).toBeGreaterThan(first.tokens['s3-a'] ?? Infinity);
    });

    it('gives each board a strictly increasing token over grants, releases and takeovers', async () => {
      const tokens: number[] = [];
      for (let i = 0; i < 3; i++) {
        const lease = granted(await fixture.open().tryAcquire({ boardIds: ['s3-a', 's3-b'], holder: holder(`u${i}`), ttlMs: TTL }));
        tokens.push(lease.tokens['s3-a'] ?? NaN);
        if (i % 2 === 0) await store.release(lease);
        else clock.advance(TTL);
      }
      const other = granted(await store.tryAcquire({ boardIds: ['s3-a'], holder: holder('dave'), ttlMs: TTL }));
      tokens.push(other.tokens['s3-a'] ?? NaN);
      for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1] ?? Infinity);
    });

    it('renews: the expiry moves, the token stays, and the board stays busy past the first TTL', async () => {
      const lease = granted(await store.tryAcquire({ boardIds: ['s3-a'], holder: holder('bob'), ttlMs: TTL }));
      clock.advance(TTL / 2);
      const renewed = await store.renew(lease);
      expect(renewed.expiresAtMs).toBe(clock.nowMs + TTL);
      expect(renewed.tokens).toEqual(lease.tokens);
      clock.advance(TTL / 2 + 1);
      expect((await fixture.open().tryAcquire({ boardIds: ['s3-a'], holder: holder('alice'), ttlMs: TTL })).granted).toBe(false);
    });

    it('renews a lease that expired when nobody took the board', async () => {
      const lease = granted(await store.tryAcquire({ boardIds: ['s3-a'], holder: holder('bob'), ttlMs: TTL }));
      clock.advance(TTL * 2);
      const renewed = await store.renew(lease);
      expect(renewed.expiresAtMs).toBe(clock.nowMs + TTL);
      expect((await store.list()).map((info) => info.boardId)).toEqual(['s3-a']);
    });

    it('refuses to renew after a takeover, naming the board and the new holder', async () => {
      const lease = granted(await store.tryAcquire({ boardIds: ['s3-a', 's3-b'], holder: holder('bob'), ttlMs: TTL }));
      clock.advance(TTL);
      const taker = granted(await fixture.open().tryAcquire({ boardIds: ['s3-b'], holder: holder('alice', 4242, 'hil run suites/espnow'), ttlMs: TTL }));
      const error = await store.renew(lease).then(() => undefined, (err: unknown) => err);
      expect(isHilError(error, LeaseErrorCodes.lost)).toBe(true);
      expect(String((error as Error).message)).toContain('board s3-b');
      expect(String((error as Error).message)).toContain('alice@this-host pid 4242, `hil run suites/espnow`');
      expect(String((error as Error).message)).toContain(`(token ${taker.tokens['s3-b']})`);
      expect((await store.list()).find((info) => info.boardId === 's3-b')?.holder.user).toBe('alice');
    });

    it('refuses to renew a released lease', async () => {
      const lease = granted(await store.tryAcquire({ boardIds: ['s3-a'], holder: holder('bob'), ttlMs: TTL }));
      await store.release(lease);
      await expect(store.renew(lease)).rejects.toMatchObject({ code: LeaseErrorCodes.lost });
    });

    it('releases idempotently and never frees a board someone else took over', async () => {
      const lease = granted(await store.tryAcquire({ boardIds: ['s3-a', 's3-b'], holder: holder('bob'), ttlMs: TTL }));
      await store.release(lease);
      await store.release(lease);
      expect(await store.list()).toEqual([]);
      const next = granted(await fixture.open().tryAcquire({ boardIds: ['s3-a'], holder: holder('alice'), ttlMs: TTL }));
      await store.release(lease);
      expect((await store.list()).map((info) => [info.boardId, info.token])).toEqual([['s3-a', next.tokens['s3-a']]]);
    });

    it('rejects a TTL that is not a positive number of milliseconds', async () => {
      await expect(store.tryAcquire({ boardIds: ['s3-a'], holder: holder('bob'), ttlMs: 0 })).rejects.toMatchObject({ code: 'USAGE' });
    });
  });
}
