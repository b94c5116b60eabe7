import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_BENCH_FILE, loadBench, parseBench } from '../../hil-config/load-bench.ts';
import { HilError } from '../../runner/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'hil-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problemsOf(text: string): string[] {
  try {
    parseBench(text, 'bench.yaml');
  } catch (err: unknown) {
    expect(err).toBeInstanceOf(HilError);
    const hil = err as HilError;
    expect(hil.code).toBe('CONFIG_INVALID');
    expect(hil.kind).toBe('bad-input');
    return hil.evidence['problems'] as string[];
  }
  throw new Error('expected the bench to be rejected');
}

describe('bench files', () => {
  it('accepts the default virtual bench: 4 ESP32-S3 and 2 ESP32 on one 7-port hub', () => {
    const bench = loadBench(DEFAULT_BENCH_FILE, { stateHome: '/var/tmp/state' });
    expect(bench.kind).toBe('virtual');
    expect(bench.hubs).toEqual([{ id: 'hub1', portPath: '1-1', ports: 7, perPortPower: true }]);
    const s3 = bench.boards.filter((b) => b.chip === 'esp32s3');
    const esp32 = bench.boards.filter((b) => b.chip === 'esp32');
    expect(s3).toHaveLength(4);
    expect(esp32).toHaveLength(2);
    for (const board of s3) expect([board.flash, board.psram, board.usb]).toEqual([16 * 2 ** 20, 8 * 2 ** 20, 'native']);
    for (const board of esp32) expect([board.flash, board.psram, board.usb]).toEqual([4 * 2 ** 20, 0, 'uart-bridge']);
    expect(bench.boards.map((b) => b.portPath)).toEqual(['1-1.1', '1-1.2', '1-1.3', '1-1.4', '1-1.5', '1-1.6']);
    expect(new Set(bench.boards.map((b) => b.mac)).size).toBe(6);
    expect(bench.boards[0]?.mac).toMatch(/^7c:df:a1(:[0-9a-f]{2}){3}$/);
    expect(bench.stateDir).toBe('/var/tmp/state/hil/virtual-lab');
    expect(Object.isFrozen(bench.boards[0])).toBe(true);
  });

  it('accepts the physical example and derives port paths from hub and port', () => {
    const bench = loadBench(join(DEFAULT_BENCH_FILE, '..', 'examples', 'physical-bench.yaml'));
    expect(bench.kind).toBe('physical');
    expect(bench.boards.map((b) => b.portPath)).toEqual(['1-4.1', '1-4.2', '1-4.3']);
    expect(bench.boards[2]?.rfc2217).toBe('rfc2217://10.0.0.5:4001');
    expect(bench.stateDir).toBeUndefined();
  });

  it('reports every problem at once, naming the file, the key and the rule', () => {
    const problems = problemsOf(`
name: bad bench
kind: virtual
colour: blue
hubs:
  - { id: hub1, portPath: "1-1", ports: 4 }
boards:
  - { id: a, chip: esp32, hub: hub1, hubPort: 1, flash: 3MB, usb: native }
  - { id: a, chip: esp8266, hub: hub1, hubPort: 9, flash: 4MB, usb: uart-bridge }
  - { id: c, chip: esp32s3, hub: hub2, hubPort: 1, flash: 16MB, usb: native, mac: "zz" }
`);
    const expected = [
      'bench.yaml: name: must be 1-40 letters',
      'bench.yaml: (top level): unknown key(s) "colour"',
      'bench.yaml: boards[0].flash: must be one of 2MB, 4MB, 8MB, 16MB, 32MB',
      'bench.yaml: boards[1].chip:',
      'bench.yaml: boards[2].mac: must be a MAC address',
    ];
    for (const text of expected) expect(problems.some((p) => p.startsWith(text)), `${text} in\n${problems.join('\n')}`).toBe(true);
  });

  it('checks cross-field rules: duplicate ids, shared port paths, missing hubs, ports beyond the hub', () => {
    const problems = problemsOf(`
name: b
kind: physical
hubs:
  - { id: hub1, portPath: "1-1", ports: 4 }
boards:
  - { id: a, chip: esp32, hub: hub1, hubPort: 1, flash: 4MB, usb: uart-bridge }
  - { id: a, chip: esp32, hub: hub1, hubPort: 1, flash: 4MB, usb: uart-bridge }
  - { id: c, chip: esp32, hub: hub1, hubPort: 5, flash: 4MB, usb: uart-bridge }
  - { id: d, chip: esp32, hub: nohub, hubPort: 1, flash: 4MB, usb: native }
`);
    expect(problems).toEqual(expect.arrayContaining([
      'bench.yaml: boards[3].usb: an esp32 has no native USB; use "uart-bridge"',
      'bench.yaml: boards[1].id: board ids must be unique ("a" repeats)',
      'bench.yaml: boards[1].hubPort: port path 1-1.1 is already used by board "a"; two boards cannot share a port',
      'bench.yaml: boards[2].hubPort: hub "hub1" has ports 1-4, there is no port 5',
      'bench.yaml: boards[3].hub: no hub with id "nohub" in hubs',
    ]));
  });

  it('reports schema and cross-field problems together', () => {
    const problems = problemsOf(`
name: b
kind: physical
hubs:
  - { id: hub1, portPath: "1-1", ports: 4 }
boards:
  - { id: a, chip: esp32, hub: hub1, hubPort: 1, flash: 3MB, usb: native }
  - { id: a, chip: esp32, hub: hub1, hubPort: 1, flash: 4MB, usb: uart-bridge }
`);
    expect(problems).toEqual(expect.arrayContaining([
      'bench.yaml: boards[0].flash: must be one of 2MB, 4MB, 8MB, 16MB, 32MB',
      'bench.yaml: boards[0].usb: an esp32 has no native USB; use "uart-bridge"',
      'bench.yaml: boards[1].id: board ids must be unique ("a" repeats)',
      'bench.yaml: boards[1].hubPort: port path 1-1.1 is already used by board "a"; two boards cannot share a port',
    ]));
  });

  it('reports YAML syntax errors with line numbers', () => {
    const problems = problemsOf('name: x\nkind: [virtual\nboards: {');
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatch(/^bench\.yaml:\d+:\d+: YAML /);
  });

  it('rejects an empty file, a missing file and a directory with clear errors', () => {
    expect(() => parseBench('', 'bench.yaml')).toThrow(/must be a YAML mapping/);
    const empty = join(dir, 'empty.yaml');
    writeFileSync(empty, '');
    expect(() => loadBench(empty)).toThrow(/must be a YAML mapping/);
    expect(() => loadBench(join(dir, 'nope.yaml'))).toThrow(expect.objectContaining({ code: 'CONFIG_NOT_FOUND' }));
    expect(() => loadBench(dir)).toThrow(/is a directory/);
  });
});

describe('virtual radio settings', () => {
  const bench = (radio: string): string => `name: r\nkind: virtual\nvirtual:\n  radio: ${radio}\nhubs: [ { id: h, portPath: "1-1", ports: 2 } ]\n` +
    'boards:\n  - { id: a, chip: esp32, hub: h, hubPort: 1, flash: 4MB, usb: uart-bridge }\n';
  it('takes loss, latency and muted boards', () => {
    const parsed = parseBench(bench('{ lossPercent: 30, latencyMs: 5, muted: [a] }'), 'bench.yaml');
    expect(parsed.virtual?.radio).toEqual({ lossPercent: 30, extraLatencyMs: 0, latencyMs: 5, muted: ['a'] });
  });
  it('refuses a loss over 100 % and a muted board that does not exist, together', () => {
    expect(() => parseBench(bench('{ lossPercent: 130, muted: [zz] }'), 'bench.yaml'))
      .toThrow(/virtual\.radio\.lossPercent[\s\S]*virtual\.radio\.muted\[0\]: no board with id "zz"/);
  });
});
