/**
 * `hil run suites/espnow` on a six-board virtual bench like the default one (4 × ESP32-S3, 2 × ESP32),
 * and the same with 30% of radio frames lost: the tests whose traffic has no retries (broadcast) fail
 * with the multitest TIMEOUT reason instead of hanging; unicast survives through MAC-level retries.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runHil } from './hil-cli.ts';

const work = mkdtempSync(join(tmpdir(), 'hil-espnow-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const env = { XDG_STATE_HOME: join(work, 'state') };
const defaultBench = readFileSync(join(REPO_ROOT, 'hil-config', 'bench.yaml'), 'utf8');

function bench(name: string, radio: string): string {
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, defaultBench.replace(/^name: .*$/m, `name: ${name}`).replace(/^(\s*speedFactor: .*)$/m, `$1\n  radio: ${radio}`));
  return file;
}

describe('hil run suites/espnow on the virtual lab', () => {
  it('passes on the default six-board layout, with metrics as JUnit properties', async () => {
    const junit = join(work, 'espnow.xml');
    const result = await runHil(['run', 'suites/espnow', '--bench', bench('espnow-lab', '{ lossPercent: 0 }'), '--junit', junit], { env, timeoutMs: 240_000 });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/11 passed/);
    expect(readFileSync(junit, 'utf8')).toMatch(/name="metric\.1" value="[^"]+"/);
  }, 300_000);

  it('with 30% loss the broadcast test fails with a timeout reason, and the run ends', async () => {
    const result = await runHil(['run', 'suites/espnow', '--bench', bench('lossy-lab', '{ lossPercent: 30 }')], { env, timeoutMs: 240_000 });
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toMatch(/✗ .*broadcast to every board.*output differs from broadcast_all_boards\.py\.exp \(instance\d went silent: TIMEOUT\)/);
    expect(result.stderr).toMatch(/✓ .*unicast echo/);
  }, 300_000);
});
