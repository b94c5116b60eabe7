/**
 * esptool-js over RFC 2217 against boards of the virtual lab: full flash of a 1.5 MB MicroPython image
 * on an ESP32 (UART bridge) and an ESP32-S3 (native USB), read-back, boot to the new version, then an
 * identical re-flash (skipped) and a small change (diff-flashed). Needs the simulated ROM loader
 * (sim/rom/); skipped with that reason when it is absent.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BoardEndpoint } from '../../runner/bench/board-endpoint.ts';
import { EsptoolFlasher } from '../../runner/flash/esptool-flasher.ts';
import type { FlashProgressEvent } from '../../runner/flash/flasher.ts';
import { planImageBytes } from '../../runner/flash/image-plan.ts';
import { openRfc2217Link } from '../../runner/link/rfc2217-link.ts';
import { FollowingLink } from '../../runner/link/following-link.ts';
import { createBoardLinkReopener } from '../../runner/bench/board-link-reopener.ts';
import { DiscoveryBenchUsb } from '../../runner/bench/discovery-bench-usb.ts';
import { systemClock } from '../../runner/repl/clock.ts';
import type { SerialLink } from '../../runner/link/serial-link.ts';
import { silentLogger } from '../../runner/logger.ts';
import { buildFirmware } from '../../sim/firmware/image-builder.ts';
import { SimLab, type SimLabBoardSpec } from '../../sim/sim-lab.ts';
import { fakeHostFactory } from '../sim/board/fake-micropython-host.ts';

const romLoaderAvailable = existsSync(new URL('../../sim/rom/esp-rom-loader.ts', import.meta.url));

const specs: SimLabBoardSpec[] = [
  { id: 'e1', chip: 'esp32', portPath: '1-1.1', flashSizeBytes: 4 * 2 ** 20, psramBytes: 0, usb: 'uart-bridge', mac: '24:0a:c4:00:00:11' },
  { id: 's1', chip: 'esp32s3', portPath: '1-1.2', flashSizeBytes: 8 * 2 ** 20, psramBytes: 0, usb: 'native', mac: '7c:df:a1:00:00:12' },
];

function endpoint(lab: SimLab, index: number): BoardEndpoint {
  const b = lab.boards[index]!;
  return { boardId: b.spec.id, portPath: b.spec.portPath, chip: b.spec.chip, usb: b.spec.usb, linkUrl: b.url, expectedMac: b.spec.mac };
}

/** Console text from `link`, with a way to wait for text after a mark. */
function consoleOf(link: SerialLink): { mark: () => number; waitFor: (pattern: RegExp, from: number, timeoutMs?: number) => Promise<string> } {
  let text = '';
  link.onData((chunk) => {
    text += Buffer.from(chunk).toString('latin1');
  });
  return {
    mark: () => text.length,
    waitFor: async (pattern, from, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(text.slice(from))) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; got ${JSON.stringify(text.slice(from).slice(-300))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return text.slice(from);
    },
  };
}

describe.skipIf(!romLoaderAvailable)('EsptoolFlasher against the virtual lab (RFC 2217)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hil-flash-'));
  let lab: SimLab;
  const flasher = new EsptoolFlasher({ logger: silentLogger() });

  beforeAll(async () => {
    lab = await SimLab.start({ boards: specs, stateDir: dir, stockFirmwareVersion: 'v1.24.1', speedFactor: 0, createHost: fakeHostFactory().create });
  });
  afterAll(async () => {
    await lab?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [index, spec] of specs.entries()) {
    it(`flashes, reads back, boots, skips and diff-flashes an ${spec.chip}`, async () => {
      const board = endpoint(lab, index);
      // Same seed: builds that differ only in version differ only in a few sectors.
      const v1 = buildFirmware({ chip: spec.chip, version: 'v1.25.0', flashSizeBytes: spec.flashSizeBytes, seed: 42 });
      const plan = planImageBytes(v1.merged(), `${spec.id}-v1.25.0.bin`, { chip: spec.chip, flashSizeBytes: spec.flashSizeBytes, boardId: spec.id });
      expect(plan.parts.find((p) => p.name === 'app')!.data.length).toBeGreaterThan(1_400_000);

      // The S3 leaves the bus when reset into its ROM and back: the link follows it by port path.
      const reopen = createBoardLinkReopener({ usb: new DiscoveryBenchUsb(lab.discovery), openLink: openRfc2217Link, clock: systemClock, logger: silentLogger() });
      const link = new FollowingLink(await openRfc2217Link(board.linkUrl), async () => (await reopen(board, { deadlineMs: 15_000, target: 'any-serial' })).link);
      try {
        const console = consoleOf(link);
        let resetMark = 0;
        const events: FlashProgressEvent[] = [];
        const onProgress = (e: FlashProgressEvent): void => {
          events.push(e);
          if (e.phase === 'reset' && e.bytesDone === 0) resetMark = console.mark();
        };

        const full = await flasher.flash({ board, link, parts: plan.parts }, { onProgress });
        expect(full.regions.find((r) => r.name === 'app')?.outcome).not.toBe('skipped');
        expect(full.baudRate).toBe(921600);
        expect(link.isOpen).toBe(true);
        expect(link.baudRate).toBe(115200);
        await console.waitFor(/MicroPython v1\.25\.0 on /, resetMark);
        expect(events.filter((e) => e.phase === 'write' && e.region === 'app').length).toBeGreaterThan(2);

        // Read back: the board's flash file holds exactly the parts.
        const flashFile = readFileSync(join(dir, `${spec.id}.flash`));
        for (const part of plan.parts) {
          expect(Buffer.compare(flashFile.subarray(part.offset, part.offset + part.data.length), Buffer.from(part.data)), part.name).toBe(0);
        }

        const same = await flasher.flash({ board, link, parts: plan.parts }, { onProgress });
        expect(same.regions.map((r) => r.outcome)).toEqual(plan.parts.map(() => 'skipped'));

        const v2 = buildFirmware({ chip: spec.chip, version: 'v1.25.1', flashSizeBytes: spec.flashSizeBytes, seed: 42 });
        const plan2 = planImageBytes(v2.merged(), `${spec.id}-v1.25.1.bin`, { chip: spec.chip, flashSizeBytes: spec.flashSizeBytes });
        const diff = await flasher.flash({ board, link, parts: plan2.parts }, { onProgress });
        const app = diff.regions.find((r) => r.name === 'app');
        expect(app?.outcome).toBe('diff');
        expect(app?.writtenBytes).toBeLessThanOrEqual(3 * 0x1000);
        expect(diff.regions.filter((r) => r.name !== 'app').map((r) => r.outcome)).toEqual(['skipped', 'skipped']);
        await console.waitFor(/MicroPython v1\.25\.1 on /, resetMark);
      } finally {
        await link.close();
      }
    }, 120_000);
  }
});
