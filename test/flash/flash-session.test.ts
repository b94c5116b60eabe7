import { describe, expect, it } from 'vitest';
import type { BoardEndpoint } from '../../runner/bench/board-endpoint.ts';
import { HilError, isHilError } from '../../runner/errors.ts';
import type { ChipName } from '../../runner/firmware/esp-chips.ts';
import { runFlashSession, type FlashLoader, type LoaderConnection, type LoaderWrite } from '../../runner/flash/flash-session.ts';
import type { FlashPart, FlashProgressEvent } from '../../runner/flash/flasher.ts';
import { md5Hex } from '../../runner/flash/sector-diff.ts';
import { RecordingLink } from './recording-link.ts';

/**
 * A loader over an in-memory flash that behaves like the stub: MD5 of flash ranges, writes that land
 * in flash (erasing whole sectors first, as the stub does), and optional faults.
 */
class FakeLoader implements FlashLoader {
  readonly flash = new Uint8Array(4 * 1024 * 1024).fill(0xff);
  readonly written: { address: number; length: number }[] = [];
  md5Requests = 0;
  baudLadder: readonly number[] = [];
  resets = 0;
  closed = 0;
  /** Corrupts one byte of the next write (bad flash). */
  corruptNextWrite = false;
  /** Throws this from the next write. */
  failNextWrite: Error | null = null;

  constructor(readonly chip: ChipName | null = 'esp32') {}

  async connect(baudRates: readonly number[]): Promise<LoaderConnection> {
    this.baudLadder = baudRates;
    return { chip: this.chip, chipDescription: this.chip === 'esp32s3' ? 'ESP32-S3' : 'ESP32-D0WD-V3', baudRate: baudRates[0] ?? 115200 };
  }
  async flashMd5(address: number, lengthBytes: number): Promise<string> {
    this.md5Requests++;
    return md5Hex(this.flash.subarray(address, address + lengthBytes));
  }
  async write(runs: readonly LoaderWrite[], onProgress: (i: number, done: number, total: number) => void): Promise<void> {
    const failure = this.failNextWrite;
    this.failNextWrite = null;
    for (const [i, run] of runs.entries()) {
      if (failure !== null) throw failure;
      this.flash.fill(0xff, run.address & ~0xfff, (run.address + run.data.length + 0xfff) & ~0xfff);
      this.flash.set(run.data, run.address);
      if (this.corruptNextWrite) {
        this.flash[run.address] = (this.flash[run.address] ?? 0) ^ 1;
        this.corruptNextWrite = false;
      }
      this.written.push({ address: run.address, length: run.data.length });
      onProgress(i, run.data.length, run.data.length);
    }
  }
  async hardReset(): Promise<void> {
    this.resets++;
  }
  async close(): Promise<void> {
    this.closed++;
  }
  abort(): void {}
}

const board = (chip: ChipName = 'esp32'): BoardEndpoint => ({
  boardId: 'b1',
  portPath: '1-1.2',
  chip,
  usb: 'uart-bridge',
  linkUrl: 'rfc2217://127.0.0.1:1',
  expectedMac: undefined,
});

function parts(seed: number): FlashPart[] {
  const app = new Uint8Array(0x30000 + 0x123);
  for (let i = 0; i < app.length; i++) app[i] = (i * 31 + seed) & 0xff;
  const table = new Uint8Array(0xc00).fill(0xaa);
  return [
    { name: 'partition-table', offset: 0x8000, data: table },
    { name: 'app', offset: 0x10000, data: app },
  ];
}

describe('runFlashSession', () => {
  it('writes everything on blank flash, verifies, resets, closes', async () => {
    const loader = new FakeLoader();
    const events: FlashProgressEvent[] = [];
    const result = await runFlashSession(loader, { board: board(), link: new RecordingLink(), parts: parts(1) }, { onProgress: (e) => events.push(e) });
    expect(result.regions.map((r) => r.outcome)).toEqual(['full', 'full']);
    expect(result.regions[1]?.sizeBytes).toBe(0x30124); // padded to 4 bytes
    expect(md5Hex(loader.flash.subarray(0x10000, 0x10000 + 0x30123))).toBe(md5Hex(parts(1)[1]!.data));
    expect(loader.baudLadder).toEqual([921600, 460800, 115200]);
    expect(loader.resets).toBe(1);
    expect(loader.closed).toBe(1);
    expect(events[0]?.phase).toBe('connect');
    expect(events.at(-1)?.phase).toBe('reset');
    expect(events.some((e) => e.phase === 'write' && e.region === 'app' && e.bytesDone === e.bytesTotal)).toBe(true);
  });

  it('skips identical regions and diff-writes one changed sector', async () => {
    const loader = new FakeLoader();
    const request = { board: board(), link: new RecordingLink(), parts: parts(1) };
    await runFlashSession(loader, request);
    loader.written.length = 0;
    const again = await runFlashSession(loader, request);
    expect(again.regions.map((r) => r.outcome)).toEqual(['skipped', 'skipped']);
    expect(loader.written).toEqual([]);

    const changed = parts(1);
    changed[1]!.data[0x21234] = (changed[1]!.data[0x21234] ?? 0) ^ 0xff;
    const diff = await runFlashSession(loader, { ...request, parts: changed });
    expect(diff.regions.map((r) => r.outcome)).toEqual(['skipped', 'diff']);
    expect(loader.written).toEqual([{ address: 0x31000, length: 0x1000 }]);
    expect(diff.regions[1]?.writtenBytes).toBe(0x1000);
  });

  it('writes whole regions when skip and diff are off', async () => {
    const loader = new FakeLoader();
    const request = { board: board(), link: new RecordingLink(), parts: parts(1), skipUnchanged: false, diff: false };
    await runFlashSession(loader, request);
    loader.md5Requests = 0;
    const again = await runFlashSession(loader, request);
    expect(again.regions.map((r) => r.outcome)).toEqual(['full', 'full']);
    expect(loader.md5Requests).toBe(2); // only the final verification per region
  });

  it('caps the baud ladder at the requested rate', async () => {
    const loader = new FakeLoader();
    await runFlashSession(loader, { board: board(), link: new RecordingLink(), parts: parts(1), baudRate: 460800 });
    expect(loader.baudLadder).toEqual([460800, 115200]);
  });

  it('refuses a board whose detected chip differs, writing nothing', async () => {
    const loader = new FakeLoader('esp32s3');
    const err: unknown = await runFlashSession(loader, { board: board('esp32'), link: new RecordingLink(), parts: parts(1) }).catch((e: unknown) => e);
    expect(isHilError(err, 'FLASH_CHIP_MISMATCH')).toBe(true);
    expect((err as HilError).kind).toBe('bad-input');
    expect(loader.written).toEqual([]);
    expect(loader.resets).toBe(1); // left running, not parked in the loader
    expect(loader.closed).toBe(1);
  });

  it('an MD5 mismatch after writing is FLASH_VERIFY_FAILED naming board, region and phase; a retry succeeds', async () => {
    const loader = new FakeLoader();
    loader.corruptNextWrite = true;
    const request = { board: board(), link: new RecordingLink(), parts: parts(1).slice(1) };
    const err: unknown = await runFlashSession(loader, request).catch((e: unknown) => e);
    expect(isHilError(err, 'FLASH_VERIFY_FAILED')).toBe(true);
    const hil = err as HilError;
    expect(hil.kind).toBe('infrastructure');
    expect(hil.message).toMatch(/b1.*region app.*verify/);
    expect(hil.evidence).toMatchObject({ boardId: 'b1', region: 'app', phase: 'verify' });
    const retry = await runFlashSession(loader, request);
    expect(retry.regions[0]?.outcome).toBe('diff'); // only the corrupted sector is rewritten
    expect(retry.regions[0]?.writtenBytes).toBe(0x1000);
  });

  it('keeps the code of loader errors and adds where they happened', async () => {
    const loader = new FakeLoader();
    loader.failNextWrite = new HilError('TIMEOUT', 'board stopped answering the loader');
    const err: unknown = await runFlashSession(loader, { board: board(), link: new RecordingLink(), parts: parts(2) }).catch((e: unknown) => e);
    expect(isHilError(err, 'TIMEOUT')).toBe(true);
    expect((err as HilError).evidence).toMatchObject({ boardId: 'b1', region: 'partition-table', phase: 'write' });
    expect(loader.closed).toBe(1);
  });

  it('wraps foreign errors as FLASH_PROTOCOL and reports cancellation as ABORTED', async () => {
    const loader = new FakeLoader();
    loader.failNextWrite = new Error('weird');
    const err: unknown = await runFlashSession(loader, { board: board(), link: new RecordingLink(), parts: parts(3) }).catch((e: unknown) => e);
    expect(isHilError(err, 'FLASH_PROTOCOL')).toBe(true);

    const ctl = new AbortController();
    ctl.abort();
    const aborted: unknown = await runFlashSession(new FakeLoader(), { board: board(), link: new RecordingLink(), parts: parts(3) }, { signal: ctl.signal }).catch((e: unknown) => e);
    expect(isHilError(aborted, 'ABORTED')).toBe(true);
  });
});
