/**
 * Leases between real processes on this host: the guarantees `hil run` relies on when two are started
 * at once, when one is killed, and when one stalls.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BoardLeaser } from '../../runner/lease/board-leaser.ts';
import { FileLeaseStore } from '../../runner/lease/file-lease-store.ts';
import { holderForThisProcess } from '../../runner/lease/lease-holder.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..');
const CHILD = join(import.meta.dirname, 'lease-child.ts');
const TTL_MS = 300;

interface Child {
  process: ChildProcess;
  /** Resolves with the first stdout line that starts with `prefix`. */
  line(prefix: string): Promise<string>;
  exited: Promise<number | null>;
}

function startChild(args: string[]): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  child.stdout.on('data', (data: Buffer) => { stdout += data.toString(); waiters.splice(0).forEach((wake) => wake()); });
  child.stderr.on('data', (data: Buffer) => { stderr += data.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const line = (prefix: string): Promise<string> => new Promise((resolve, reject) => {
    const check = (): void => {
      const found = stdout.split('\n').find((text) => text.startsWith(prefix));
      if (found !== undefined) resolve(found);
      else waiters.push(check);
    };
    void exited.then((code) => reject(new Error(`lease child exited (${code}) before printing "${prefix}"\n${stdout}\n${stderr}`)));
    check();
  });
  return { process: child, line, exited };
}

describe('leases across processes', () => {
  let dir: string;
  const children: Child[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hil-lease-x-'));
  });
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.process.exitCode === null && child.process.signalCode === null) {
        child.process.kill('SIGKILL');
        await child.exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('never lets two processes hold the same board at once', async () => {
    const log = join(dir, 'holds.log');
    const rounds = 25;
    // Exclusivity must not depend on the TTL; a long one keeps a child that the OS starves for a moment
    // from losing its lease legitimately (which the stalled-holder test below covers).
    const pair = [0, 1].map(() => startChild(['loop', join(dir, 'leases'), 's3-a', '10000', log, String(rounds)]));
    children.push(...pair);
    await Promise.all(pair.map((child) => child.line('ready')));
    for (const child of pair) child.process.stdin?.write('go\n');
    expect(await Promise.all(pair.map((child) => child.exited))).toEqual([0, 0]);

    const lines = readFileSync(log, 'utf8').trim().split('\n').map((text) => text.split(' '));
    expect(lines).toHaveLength(4 * rounds);
    let lastToken = 0;
    for (let i = 0; i < lines.length; i += 2) {
      const [enter, enterPid, enterToken] = lines[i] ?? [];
      const [exit, exitPid, exitToken] = lines[i + 1] ?? [];
      // Every "enter" is followed by the same holder's "exit": no one else entered in between.
      expect([enter, exit, exitPid, exitToken]).toEqual(['enter', 'exit', enterPid, enterToken]);
      expect(Number(enterToken)).toBeGreaterThan(lastToken);
      lastToken = Number(enterToken);
    }
    expect(new Set(lines.map(([, pid]) => pid)).size).toBe(2);
  });

  it('frees the board of a killed holder at once, without waiting for its TTL', async () => {
    const holder = startChild(['hold', join(dir, 'leases'), 's3-a', '600000']);
    children.push(holder);
    const heldToken = Number((await holder.line('held ')).split(' ')[1]);
    holder.process.kill('SIGKILL');
    await holder.exited;
    const leaser = new BoardLeaser({ store: new FileLeaseStore({ dir: join(dir, 'leases') }), holder: holderForThisProcess('test'), ttlMs: TTL_MS });
    const held = await leaser.acquire({ boardIds: ['s3-a'] }, { noWait: true });
    expect(held.tokens['s3-a']).toBeGreaterThan(heldToken);
    await held.release();
  });

  it('takes over from a stalled holder after its TTL, and the holder learns it lost the board', async () => {
    const holder = startChild(['hold', join(dir, 'leases'), 's3-a', String(TTL_MS)]);
    children.push(holder);
    const heldToken = Number((await holder.line('held ')).split(' ')[1]);
    const pid = holder.process.pid ?? 0;
    holder.process.kill('SIGSTOP');
    const reasons: string[] = [];
    const leaser = new BoardLeaser({ store: new FileLeaseStore({ dir: join(dir, 'leases') }), holder: holderForThisProcess('test'), ttlMs: 60_000, pollMs: 20 });
    const held = await leaser.acquire({ boardIds: ['s3-a'] }, { waitTimeoutMs: 10_000, onWaiting: (reason) => reasons.push(reason.message) });
    expect(held.tokens['s3-a']).toBeGreaterThan(heldToken);
    expect(reasons[0]).toMatch(new RegExp(`^waiting for s3-a \\(leased by .+ pid ${pid}, \`lease-child hold\`, `));
    holder.process.kill('SIGCONT');
    expect(await holder.line('lost ')).toContain('lost the lease on board s3-a: it is now leased by');
    expect(await holder.exited).toBe(4);
    await held.release();
  });
});
