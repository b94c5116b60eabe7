import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BoardEndpoint } from '../../runner/bench/board-endpoint.ts';
import { HilError } from '../../runner/errors.ts';
import { planBoardSets } from '../../runner/suite/board-allocation.ts';
import { parseProperties, tracebackSummary } from '../../runner/suite/board-script.ts';
import { loadSuite } from '../../runner/suite/suite-loader.ts';

const root = mkdtempSync(join(tmpdir(), 'hil-suites-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function writeSuite(name: string, manifest: string, files: Record<string, string> = {}): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'suite.yaml'), manifest);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

const board = (id: string, chip: 'esp32' | 'esp32s3'): BoardEndpoint =>
  ({ boardId: id, portPath: `1-1.${id.length}`, chip, usb: chip === 'esp32' ? 'uart-bridge' : 'native', linkUrl: '', expectedMac: undefined });

describe('suite loader', () => {
  it('loads the shipped smoke suite with its scripts, from the working directory or by built-in name', () => {
    const suite = loadSuite('suites/smoke', join(import.meta.dirname, '..', '..'));
    expect(suite.manifest.name).toBe('smoke');
    expect(suite.manifest.boards).toEqual({ count: 1, placement: 'each-board' });
    expect([...suite.scripts.keys()].sort()).toEqual(['after_soft_reset.py', 'before_soft_reset.py', 'identity.py', 'roundtrip.py']);
    expect(loadSuite('suites/smoke', root).dir).toBe(suite.dir);
  });

  it('loads the USB suites with their host-side steps and defaults', () => {
    const repo = join(import.meta.dirname, '..', '..');
    const usb = loadSuite('suites/usbdevice', repo);
    const steps = usb.manifest.tests.flatMap((t) => t.steps);
    expect(steps).toContainEqual({ 'usb-bulk-loopback': { interfaceClass: 0xff, sizeBytes: 4096, timeoutMs: 10_000 } });
    expect(steps).toContainEqual({ recover: { expectRung: 'power-cycle', timeoutMs: 30_000 } });
    expect(steps).toContainEqual({ exec: 'builtin_none.py', timeoutMs: 10_000, reconnect: false, expectReplPortGone: true });
    const soft = loadSuite('suites/soft-reset', repo);
    expect(soft.manifest.tests[1]!.steps[0]).toEqual({ 'soft-reset': { via: 'machine.soft_reset', timeoutMs: 10_000, expectReconnect: false } });
  });

  it('refuses bad USB steps as bad input, naming each problem', () => {
    const dir = writeSuite('bad-usb', `
name: bad-usb
tests:
  - name: t
    steps:
      - exec: a.py
        reconnect: true
        expectReplPortGone: true
      - soft-reset: { via: reboot }
      - usb-control-echo: { interfaceClass: 300, outRequest: 1, inRequest: 2 }
`, { 'a.py': '' });
    expect(() => loadSuite(dir, root)).toThrow(expect.objectContaining({ code: 'SUITE_INVALID' }));
    let message = '';
    try {
      loadSuite(dir, root);
    } catch (err: unknown) {
      message = (err as Error).message;
    }
    expect(message).toContain('tests.0.steps.0: reconnect and expectReplPortGone exclude each other');
    expect(message).toMatch(/tests\.0\.steps\.1\.soft-reset\.via: Invalid option: expected one of "ctrl-d"/);
    expect(message).toMatch(/tests\.0\.steps\.2\.usb-control-echo\.interfaceClass: .*255/);
  });

  it('reports an unknown suite path naming where it looked', () => {
    expect(() => loadSuite('suites/nope', root)).toThrow(expect.objectContaining({ code: 'SUITE_NOT_FOUND' }));
    expect(() => loadSuite('./nowhere', root)).toThrow(/unknown suite "\.\/nowhere": no suite\.yaml found/);
  });

  it('reports every manifest problem at once, including missing scripts', () => {
    const dir = writeSuite('bad', `
name: bad suite
boards: { count: 2, placement: each-board }
tests:
  - name: a
    steps: [ { exec: missing.py }, { reboot: {} } ]
  - name: a
    steps: []
`);
    try {
      loadSuite(dir);
      expect.unreachable();
    } catch (err: unknown) {
      expect(err).toBeInstanceOf(HilError);
      const problems = (err as HilError).evidence['problems'] as string[];
      expect(problems.join('\n')).toMatch(/name: must be a short name/);
      expect(problems.join('\n')).toMatch(/boards\.count: placement "each-board" runs on one board at a time/);
      expect(problems.join('\n')).toMatch(/tests\.0\.steps\.1: must be one step/);
      expect(problems.join('\n')).toMatch(/tests\.1\.steps: a test needs at least one step/);
      expect((err as HilError).code).toBe('SUITE_INVALID');
    }
    const missing = writeSuite('missing', 'name: m\ntests:\n  - name: t\n    steps: [ { exec: gone.py } ]\n');
    expect(() => loadSuite(missing)).toThrow(/script gone\.py does not exist/);
    const escape = writeSuite('escape', 'name: m\ntests:\n  - name: t\n    steps: [ { exec: ../x.py } ]\n');
    expect(() => loadSuite(escape)).toThrow(/outside the suite folder/);
  });
});

describe('board placement', () => {
  const bench = [board('s3-a', 'esp32s3'), board('s3-b', 'esp32s3'), board('e-a', 'esp32')];
  const manifest = (boards: object) => ({ name: 'x', boards: { count: 1, placement: 'each-board', ...boards }, tests: [] }) as never;

  it('gives each eligible board its own set for each-board suites', () => {
    expect(planBoardSets('x', manifest({}), bench).map((set) => set.map((b) => b.boardId))).toEqual([['s3-a'], ['s3-b'], ['e-a']]);
    expect(planBoardSets('x', manifest({ chips: ['esp32'] }), bench).map((set) => set.map((b) => b.boardId))).toEqual([['e-a']]);
  });

  it('refuses a suite that needs more boards than the bench has, as bad input', () => {
    expect(() => planBoardSets('suites/big', manifest({ count: 4, placement: 'one-set' }), bench))
      .toThrow('suite suites/big needs 4 boards but the bench offers 3');
    expect(() => planBoardSets('suites/big', manifest({ count: 2, placement: 'one-set', chips: ['esp32'] }), bench))
      .toThrow(expect.objectContaining({ code: 'NOT_ENOUGH_BOARDS', kind: 'bad-input' }));
  });
});

describe('board script output', () => {
  it('reads HIL:PROP lines as properties and summarises tracebacks', () => {
    expect(parseProperties('x\r\nHIL:PROP mac=aa:bb\r\nHIL:PROP n.v=1 2\nHIL:PROPbad\n')).toEqual({ mac: 'aa:bb', 'n.v': '1 2' });
    expect(tracebackSummary('Traceback (most recent call last):\r\n  File "<stdin>", line 3\r\nAssertionError: boom\r\n')).toBe('AssertionError: boom');
  });
});
