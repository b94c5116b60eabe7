/**
 * The integration test of issue 3's ROM emulation: esptool-js 0.7.0 flashes a simulated board of the
 * virtual lab over RFC 2217 (main, compressed write with MD5, read-back, EN pulse) and the board
 * boots the new image.
 */
import { createHash } from 'node:crypto';
import { ESPLoader, Transport } from 'esptool-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { SimBoard } from '../../../sim/board/sim-board.ts';
import { buildFirmware } from '../../../sim/firmware/image-builder.ts';
import { SimLab } from '../../../sim/sim-lab.ts';
import { fakeHostFactory } from '../board/fake-micropython-host.ts';
import { Rfc2217WebSerialDevice } from './rfc2217-web-serial-device.ts';

/** esptool-js's Transport, quiet: its trace() writes to console.log unconditionally (§B.8). */
class QuietTransport extends Transport {
  override trace(): void {}
}

let lab: SimLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

async function waitFor(board: SimBoard, predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out; board state ${board.state}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('esptool-js 0.7.0 against the virtual lab', () => {
  it.each(['esp32', 'esp32s3'] as const)('flashes, reads back and boots a 1.5 MB image on %s', async (chip) => {
    lab = await SimLab.start({
      boards: [{ id: `b-${chip}`, chip, portPath: '1-1.1', flashSizeBytes: 4 * 1024 * 1024, psramBytes: 0, usb: 'uart-bridge', mac: '24:0a:c4:12:34:56' }],
      stateDir: undefined,
      stockFirmwareVersion: 'v1.24.1',
      speedFactor: 0,
      createHost: fakeHostFactory().create,
    });
    const { board, url } = lab.boards[0]!;
    const log: string[] = [];
    const terminal = { clean: () => {}, writeLine: (s: string) => log.push(s), write: (s: string) => log.push(s) };
    const device = new Rfc2217WebSerialDevice(url);
    const transport = new QuietTransport(device as unknown as ConstructorParameters<typeof Transport>[0]);
    const loader = new ESPLoader({ transport, baudrate: 921600, romBaudrate: 115200, terminal });
    try {
      const description = await loader.main();
      expect(description).toContain(chip === 'esp32' ? 'ESP32' : 'ESP32-S3');
      expect(loader.IS_STUB).toBe(true);

      const build = buildFirmware({ chip, version: 'v1.99.0', flashSizeBytes: 4 * 1024 * 1024 });
      expect(build.app.length).toBeGreaterThan(1_400_000);
      await loader.writeFlash({
        fileArray: build.parts.map((part) => ({ data: part.data, address: part.offset })),
        flashSize: 'keep',
        flashMode: 'keep',
        flashFreq: 'keep',
        eraseAll: false,
        compress: true,
        calculateMD5Hash: (image: Uint8Array) => createHash('md5').update(image).digest('hex'),
      });
      expect(log.join('\n')).toContain('Hash of data verified');
      const readBack = await loader.readFlash(build.appOffset, build.app.length);
      expect(Buffer.from(readBack).equals(Buffer.from(build.app))).toBe(true);

      await loader.after('custom_reset', undefined, 'D0|R1|W100|R0');
    } finally {
      await transport.disconnect();
    }
    await waitFor(board, () => board.state === 'app-running', 10_000);
    expect(board.runningFirmware?.version).toBe('v1.99.0');
  }, 120_000);
});
