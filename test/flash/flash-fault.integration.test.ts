/**
 * Flashing faults against a virtual-lab ESP32 over RFC 2217 (issue 3, "Bad input"): a board that stops
 * answering mid-write and a region whose MD5 does not match after writing are infrastructure errors
 * naming the board, the region and the phase — and a retry of the same request then succeeds.
 *
 * Fault models, both honest to what the rig can observe:
 * - "stops answering": the board loses power once the app write passes 30% (`SimBoard.powerOff()`: the
 *   UART is disabled, so input and output are dropped, as on a board whose supply or bridge failed).
 *   It is powered on again before the retry, like a board that comes back.
 * - a rate the cable cannot carry: a link wrapper garbles every byte from the board while the host runs
 *   above 460800 baud (as a bridge or long cable that fails at 921600 does); the flasher falls back.
 * - MD5 mismatch: one already-written byte of the app is flipped in the board's flash store while the
 *   write is still running (a flash cell that did not keep its value). The stub's per-run check then
 *   fails exactly as on hardware; nothing in the flasher is stubbed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BoardEndpoint } from '../../runner/bench/board-endpoint.ts';
import { isHilError, type HilError } from '../../runner/errors.ts';
import { EsptoolFlasher } from '../../runner/flash/esptool-flasher.ts';
import type { FlashProgressEvent, FlashRequest } from '../../runner/flash/flasher.ts';
import { planImageBytes, type ImagePlan } from '../../runner/flash/image-plan.ts';
import { openRfc2217Link } from '../../runner/link/rfc2217-link.ts';
import type { SerialLink } from '../../runner/link/serial-link.ts';
import { silentLogger } from '../../runner/logger.ts';
import type { SimBoard } from '../../sim/board/sim-board.ts';
import { buildFirmware } from '../../sim/firmware/image-builder.ts';
import { SimLab, type SimLabBoardSpec } from '../../sim/sim-lab.ts';
import { createBoardLinkReopener } from '../../runner/bench/board-link-reopener.ts';
import { DiscoveryBenchUsb } from '../../runner/bench/discovery-bench-usb.ts';
import { systemClock } from '../../runner/repl/clock.ts';
import { fakeHostFactory } from '../sim/board/fake-micropython-host.ts';

const FLASH_BYTES = 4 * 2 ** 20;
const spec: SimLabBoardSpec = { id: 'f1', chip: 'esp32', portPath: '1-1.1', flashSizeBytes: FLASH_BYTES, psramBytes: 0, usb: 'uart-bridge', mac: '24:0a:c4:00:00:21' };

function endpointOf(lab: SimLab): BoardEndpoint {
  const b = lab.boards[0]!;
  return { boardId: b.spec.id, portPath: b.spec.portPath, chip: b.spec.chip, usb: b.spec.usb, linkUrl: b.url, expectedMac: b.spec.mac };
}

/** Resolves with the error `promise` rejects with; fails the test when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<HilError> {
  try {
    await promise;
  } catch (err: unknown) {
    if (isHilError(err)) return err;
    throw new Error(`expected a HilError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected the flash to fail, but it succeeded');
}

/** Polls `condition` every 20 ms until it holds or `timeoutMs` passes (then throws with `what`). */
async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function expectFlashHolds(board: SimBoard, plan: ImagePlan): void {
  for (const part of plan.parts) {
    const onBoard = board.flash.read(part.offset, part.data.length);
    expect(Buffer.compare(Buffer.from(onBoard), Buffer.from(part.data)), `region ${part.name}`).toBe(0);
  }
}

/** An `onProgress` that calls `fault` once, when the app write first passes `fraction` of its bytes. */
function midWrite(fraction: number, fault: (event: FlashProgressEvent) => void): { onProgress: (e: FlashProgressEvent) => void; fired: () => boolean } {
  let fired = false;
  return {
    onProgress: (e) => {
      if (fired || e.phase !== 'write' || e.region !== 'app' || e.bytesTotal === 0) return;
      if (e.bytesDone / e.bytesTotal < fraction) return;
      fired = true;
      fault(e);
    },
    fired: () => fired,
  };
}

describe('flashing faults against the virtual lab (RFC 2217, ESP32)', () => {
  let lab: SimLab;
  let link: SerialLink;
  let board: SimBoard;
  const flasher = new EsptoolFlasher({ logger: silentLogger() });

  beforeAll(async () => {
    lab = await SimLab.start({ boards: [spec], stateDir: undefined, stockFirmwareVersion: 'v1.24.1', speedFactor: 0, createHost: fakeHostFactory().create });
    board = lab.boards[0]!.board;
    link = await openRfc2217Link(lab.boards[0]!.url);
  });
  afterAll(async () => {
    await link?.close();
    await lab?.close();
  });

  it('a board that stops answering mid-write is an infrastructure error naming board, region and phase; a retry diff-flashes the rest and boots', async () => {
    // A different build from the stock v1.24.1 one, so every app sector has to be written.
    const image = buildFirmware({ chip: 'esp32', version: 'v1.25.0', flashSizeBytes: FLASH_BYTES, seed: 7001 });
    const plan = planImageBytes(image.merged(), 'f1-v1.25.0.bin', { chip: 'esp32', flashSizeBytes: FLASH_BYTES, boardId: spec.id });
    const request: FlashRequest = { board: endpointOf(lab), link, parts: plan.parts };

    let faultAtBytes = 0;
    const fault = midWrite(0.3, (e) => {
      faultAtBytes = e.bytesDone;
      void board.powerOff();
    });
    const err = await rejection(flasher.flash(request, { onProgress: fault.onProgress }));
    expect(fault.fired()).toBe(true);
    expect(err.kind).toBe('infrastructure');
    expect(['TIMEOUT', 'FLASH_PROTOCOL', 'LINK_GONE']).toContain(err.code);
    expect(err.message).toContain('f1');
    expect(err.message).toContain('region app');
    expect(err.message).toContain('write');
    expect(err.evidence).toMatchObject({ boardId: 'f1', portPath: '1-1.1', region: 'app', phase: 'write' });
    expect(board.state).toBe('off');
    // Without power the CP2104 leaves the bus too: its tty — the lab's RFC 2217 client — is gone.
    await until(() => !link.isOpen, 'the link to go with the board');

    // The board comes back (it may boot-loop on the half-written app; the flasher's reset handles that),
    // and is found again by its port path.
    board.powerOn();
    const reopen = createBoardLinkReopener({ usb: new DiscoveryBenchUsb(lab.discovery), openLink: openRfc2217Link, clock: systemClock, logger: silentLogger() });
    link = (await reopen(endpointOf(lab), { deadlineMs: 10_000, target: 'any-serial' })).link;
    request.link = link;
    await until(() => board.state !== 'reset', 'the board to leave reset');

    const events: FlashProgressEvent[] = [];
    const result = await flasher.flash(request, { onProgress: (e) => events.push(e) });
    const app = result.regions.find((r) => r.name === 'app')!;
    // The sectors written before the power loss already match: only the rest is rewritten.
    expect(app.outcome).toBe('diff');
    expect(app.writtenBytes).toBeLessThan(app.sizeBytes);
    expect(app.writtenBytes).toBeGreaterThanOrEqual(app.sizeBytes - faultAtBytes - 0x10000);
    expect(events.some((e) => e.phase === 'verify' && e.region === 'app')).toBe(true);
    expectFlashHolds(board, plan);
    await until(() => board.state === 'app-running', 'the board to boot the new firmware');
    expect(board.runningFirmware?.version).toBe('v1.25.0');
  }, 60_000);

  it('an MD5 mismatch after writing is FLASH_VERIFY_FAILED naming board, region and phase; a retry rewrites and verifies', async () => {
    const image = buildFirmware({ chip: 'esp32', version: 'v1.25.1', flashSizeBytes: FLASH_BYTES, seed: 7002 });
    const plan = planImageBytes(image.merged(), 'f1-v1.25.1.bin', { chip: 'esp32', flashSizeBytes: FLASH_BYTES, boardId: spec.id });
    const appPart = plan.parts.find((p) => p.name === 'app')!;
    const request: FlashRequest = { board: endpointOf(lab), link, parts: plan.parts };

    // 100 bytes into the app: written long before the write passes half way.
    const victim = appPart.offset + 100;
    const fault = midWrite(0.5, () => {
      const byte = board.flash.read(victim, 1)[0]!;
      board.flash.write(victim, Uint8Array.of(byte ^ 0x01));
    });
    const err = await rejection(flasher.flash(request, { onProgress: fault.onProgress }));
    expect(fault.fired()).toBe(true);
    expect(err.code).toBe('FLASH_VERIFY_FAILED');
    expect(err.kind).toBe('infrastructure');
    expect(err.message).toContain('f1');
    expect(err.message).toContain('region app');
    expect(err.evidence).toMatchObject({ boardId: 'f1', region: 'app', phase: 'write' });
    expect(board.flash.read(victim, 1)[0]).not.toBe(appPart.data[100]);

    const result = await flasher.flash(request);
    const app = result.regions.find((r) => r.name === 'app')!;
    // Only the sector holding the flipped byte differs now.
    expect(app.outcome).toBe('diff');
    expect(app.writtenBytes).toBe(0x1000);
    expectFlashHolds(board, plan);
    await until(() => board.state === 'app-running', 'the board to boot the new firmware');
    expect(board.runningFirmware?.version).toBe('v1.25.1');
  }, 60_000);

  it('a board that cannot keep 921600 baud is flashed at the next lower rate', async () => {
    const noisy = new NoisyAboveLink(link, 460800);
    const image = buildFirmware({ chip: 'esp32', version: 'v1.25.2', flashSizeBytes: FLASH_BYTES, seed: 7003 });
    const plan = planImageBytes(image.merged(), 'f1-v1.25.2.bin', { chip: 'esp32', flashSizeBytes: FLASH_BYTES, boardId: spec.id });
    const result = await flasher.flash({ board: endpointOf(lab), link: noisy, parts: plan.parts, baudRate: 921600 });
    expect(noisy.garbledBytes).toBeGreaterThan(0);
    expect(result.baudRate).toBe(460800);
    expect(result.regions.find((r) => r.name === 'app')?.outcome).not.toBe('skipped');
    expectFlashHolds(board, plan);
    expect(link.baudRate).toBe(115200);
    await until(() => board.state === 'app-running', 'the board to boot the new firmware');
    expect(board.runningFirmware?.version).toBe('v1.25.2');
  }, 60_000);
});

/** A link whose received bytes turn to noise while the host runs faster than `maxBaudRate`. */
class NoisyAboveLink implements SerialLink {
  garbledBytes = 0;
  constructor(
    private readonly inner: SerialLink,
    private readonly maxBaudRate: number,
  ) {}
  get url(): string {
    return this.inner.url;
  }
  get baudRate(): number {
    return this.inner.baudRate;
  }
  get isOpen(): boolean {
    return this.inner.isOpen;
  }
  get signals(): { readonly dtr: boolean; readonly rts: boolean } {
    return this.inner.signals;
  }
  write(data: Uint8Array): Promise<void> {
    return this.inner.write(data);
  }
  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.inner.onData((chunk) => {
      if (this.inner.baudRate <= this.maxBaudRate) return listener(chunk);
      this.garbledBytes += chunk.length;
      listener(chunk.map((b) => (b * 7 + 0x35) & 0xff));
    });
  }
  onGone(listener: (err: Error) => void): () => void {
    return this.inner.onGone(listener);
  }
  setSignals(signals: { dtr?: boolean; rts?: boolean }): Promise<void> {
    return this.inner.setSignals(signals);
  }
  setBaudRate(baudRate: number): Promise<void> {
    return this.inner.setBaudRate(baudRate);
  }
  purgeInput(): Promise<void> {
    return this.inner.purgeInput();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
