import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isHilError, type ErrorCode } from '../../runner/errors.ts';
import { openLink } from '../../runner/link/open-link.ts';
import { SerialportLink, openSerialportLink } from '../../runner/link/serialport-link.ts';
import { waitFor } from '../sim/rfc2217/raw-telnet-client.ts';

const socatInstalled = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
const onCi = process.env.CI === 'true';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => new Error('expected a rejection'),
    (err: unknown) => err,
  );
}

function expectHilError(err: unknown, code: ErrorCode): void {
  expect(isHilError(err) ? err.code : err).toBe(code);
}

interface PtyPair {
  readonly a: string;
  readonly b: string;
  readonly socat: ChildProcess;
}

const dirs: string[] = [];
const children: ChildProcess[] = [];

/** A connected pair of ptys from socat; both paths exist when this resolves. */
async function ptyPair(): Promise<PtyPair> {
  const dir = await mkdtemp(join(tmpdir(), 'hil-pty-'));
  dirs.push(dir);
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  children.push(socat);
  await waitFor(() => existsSync(a) && existsSync(b), 'socat to create the pty links', 5000);
  return { a, b, socat };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

if (!socatInstalled) {
  describe('SerialportLink over a socat PTY pair', () => {
    if (onCi) {
      it('needs socat', () => {
        throw new Error('install socat: apt-get install -y socat');
      });
    } else {
      it.skip('skipped: socat is not installed (apt-get install -y socat)', () => undefined);
    }
  });
} else {
  describe('SerialportLink over a socat PTY pair', () => {
    const links: SerialportLink[] = [];
    async function open(path: string, baudRate = 115200): Promise<SerialportLink> {
      const link = await openSerialportLink(path, { baudRate, timeoutMs: 3000 });
      links.push(link);
      return link;
    }

    afterEach(async () => {
      await Promise.all(links.splice(0).map((l) => l.close()));
    });

    afterAll(async () => {
      await Promise.all(children.splice(0).map(stop));
      await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
    });

    it('carries every byte value both ways, 0xFF included', async () => {
      const { a, b } = await ptyPair();
      const left = await open(a);
      const right = await open(b);
      expect(left.url).toBe(a);
      expect(left.isOpen).toBe(true);
      const atRight: number[] = [];
      const atLeft: number[] = [];
      right.onData((chunk) => atRight.push(...chunk));
      left.onData((chunk) => atLeft.push(...chunk));

      const all = Uint8Array.from({ length: 512 }, (_, i) => (i % 3 === 0 ? 0xff : i & 0xff));
      await left.write(all);
      await waitFor(() => atRight.length >= all.length, 'bytes at the right end');
      expect(Uint8Array.from(atRight)).toEqual(all);

      await right.write(Uint8Array.of(0xff, 0x00, 0xff, 0x0a));
      await waitFor(() => atLeft.length >= 4, 'bytes at the left end');
      expect(atLeft).toEqual([0xff, 0x00, 0xff, 0x0a]);
    });

    it('changes baud rate in place, survives setSignals on a pty, and purges', async () => {
      const { a, b } = await ptyPair();
      const left = await open(a);
      const right = await open(b);
      await left.setBaudRate(921600);
      expect(left.baudRate).toBe(921600);

      expect(left.signals).toEqual({ dtr: true, rts: true });
      await left.setSignals({ dtr: false, rts: true });
      await left.setSignals({ dtr: true });
      expect(left.signals).toEqual({ dtr: true, rts: true });
      await left.setSignals({ rts: false });
      expect(left.signals).toEqual({ dtr: true, rts: false });
      // A pty has no modem lines: the link found out and only remembers the state.
      expect(left.hasModemLines).toBe(false);

      await left.purgeInput();
      const got: number[] = [];
      left.onData((chunk) => got.push(...chunk));
      await right.write(new TextEncoder().encode('after purge'));
      await waitFor(() => got.length >= 11, 'data after the purge');
      expect(Buffer.from(got).toString()).toBe('after purge');
    });

    it('refuses a second open of the same path with PORT_IN_USE, and allows it after close', async () => {
      const { a } = await ptyPair();
      const first = await open(a);
      const err = await rejection(openSerialportLink(a, { timeoutMs: 3000 }));
      expectHilError(err, 'PORT_IN_USE');
      expect((err as Error).message).toContain(a);

      await first.close();
      await first.close();
      expect(first.isOpen).toBe(false);
      expectHilError(await rejection(first.write(Uint8Array.of(1))), 'LINK_GONE');
      const again = await open(a);
      expect(again.isOpen).toBe(true);
    });

    it('reports a port whose other end vanished through onGone and rejects writes', async () => {
      const { a, socat } = await ptyPair();
      const link = await open(a);
      const gone: Error[] = [];
      link.onGone((err) => gone.push(err));
      await stop(socat);
      await waitFor(() => gone.length > 0, 'onGone after socat exited', 5000);
      expectHilError(gone[0], 'LINK_GONE');
      expect(link.isOpen).toBe(false);
      expectHilError(await rejection(link.write(Uint8Array.of(1))), 'LINK_GONE');
    });

    it('is what openLink picks for a tty path', async () => {
      const { a } = await ptyPair();
      const link = await openLink(a, { timeoutMs: 3000 });
      links.push(link as SerialportLink);
      expect(link).toBeInstanceOf(SerialportLink);
    });
  });
}

describe('openSerialportLink errors', () => {
  it('names a missing path in PORT_UNREACHABLE', async () => {
    const path = join(tmpdir(), 'hil-no-such-tty-' + String(process.pid));
    const err = await rejection(openSerialportLink(path, { timeoutMs: 3000 }));
    expectHilError(err, 'PORT_UNREACHABLE');
    expect((err as Error).message).toContain(path);
  });

  it('rejects an empty path and a bad baud rate with USAGE', async () => {
    expectHilError(await rejection(openSerialportLink('')), 'USAGE');
    expectHilError(await rejection(openSerialportLink('/dev/null', { baudRate: -5 })), 'USAGE');
  });
});
