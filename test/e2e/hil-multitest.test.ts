/**
 * `hil run PATH/test.py` runs one MicroPython multi-instance test file (its `.exp` beside it) on as many
 * boards as it has instances, and suites can list multitest files as steps. Virtual 2-board bench.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runHil } from './hil-cli.ts';

const work = mkdtempSync(join(tmpdir(), 'hil-multi-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const env = { XDG_STATE_HOME: join(work, 'state') };
const benchFile = join(work, 'bench.yaml');
writeFileSync(benchFile, `
name: multi-lab
kind: virtual
hubs: [ { id: hub1, portPath: "1-1", ports: 2 } ]
boards:
  - { id: e1, chip: esp32, hub: hub1, hubPort: 1, flash: 4MB, usb: uart-bridge }
  - { id: e2, chip: esp32, hub: hub1, hubPort: 2, flash: 4MB, usb: uart-bridge }
`);
const fixtures = join(REPO_ROOT, 'test', 'multitest', 'fixtures');

describe('hil run with multitest files', () => {
  it('runs a file from anywhere on disk as one test case, and reports a failing one with its diff', async () => {
    const junit = join(work, 'exchange.xml');
    const passed = await runHil(['run', join(fixtures, 'exchange.py'), '--bench', benchFile, '--junit', junit], { env, cwd: work });
    expect(passed.code, passed.stdout + passed.stderr).toBe(0);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<testcase[^>]* name="exchange.py"/);
    expect(xml).toMatch(/name="instance0.board" value="e1"/);

    const failed = await runHil(['run', join(fixtures, 'mismatch.py'), '--bench', benchFile], { env });
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('output differs from mismatch.py.exp');
    expect(failed.stdout).toContain('+two');

    const notMulti = await runHil(['run', join(fixtures, 'not_a_multitest.py'), '--bench', benchFile], { env });
    expect(notMulti.code).toBe(2);
    expect(notMulti.stderr).toMatch(/defines no instance0\(\)/);
  }, 180_000);

  it('runs multitest steps of a suite, and refuses a file with more instances than the suite\'s boards', async () => {
    const dir = join(work, 'suites', 'pair');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'exchange.py'), readFileSync(join(fixtures, 'exchange.py')));
    writeFileSync(join(dir, 'exchange.py.exp'), readFileSync(join(fixtures, 'exchange.py.exp')));
    writeFileSync(join(dir, 'suite.yaml'), 'name: pair\nboards: { count: 2, placement: one-set }\ntests:\n  - name: exchange\n    steps:\n      - multitest: exchange.py\n');
    const ok = await runHil(['run', dir, '--bench', benchFile], { env });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/1 passed/);

    writeFileSync(join(dir, 'suite.yaml'), 'name: pair\nboards: { count: 1, placement: one-set }\ntests:\n  - name: exchange\n    steps:\n      - multitest: exchange.py\n');
    const refused = await runHil(['run', dir, '--bench', benchFile], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/exchange\.py has 2 instances but the suite's board sets have 1 board/);
  }, 180_000);

  it('--roles all runs every assignment of instances to boards and passes only when all do', async () => {
    const junit = join(work, 'roles.xml');
    const result = await runHil(['run', join(fixtures, 'exchange.py'), '--bench', benchFile, '--roles', 'all', '--junit', junit], { env });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toContain('name="roles.runs" value="2"');
    expect(xml).toContain('name="roles1.assignment" value="exchange.py on e1|e2"');
    expect(xml).toContain('name="roles2.assignment" value="exchange.py on e2|e1"');
    const bad = await runHil(['run', join(fixtures, 'exchange.py'), '--bench', benchFile, '--roles', '0'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--roles must be "all" or a whole number/);
  }, 120_000);
});
