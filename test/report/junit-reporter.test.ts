import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { validateXML } from 'xmllint-wasm';
import { create } from 'xmlbuilder2';
import { JUnitReporter } from '../../runner/report/junit-reporter.ts';
import type { RunEvent } from '../../runner/suite/run-events.ts';
import { boardA, sampleRun } from './sample-run.ts';

const schemaPath = fileURLToPath(new URL('./junit.xsd', import.meta.url));

async function validate(xml: string): Promise<{ valid: boolean; errors: string[] }> {
  const schema = await readFile(schemaPath, 'utf8');
  const result = await validateXML({ xml: { fileName: 'report.xml', contents: xml }, schema: { fileName: 'junit.xsd', contents: schema } });
  return { valid: result.valid, errors: result.errors.map((e) => e.rawMessage) };
}

function render(events: RunEvent[]): string {
  const reporter = new JUnitReporter({ hostname: 'bench-1' });
  for (const event of events) reporter.onEvent(event);
  return reporter.render();
}

/** The parsed document root (xmlbuilder2's DOM, which the standard DOM types describe). */
function parse(xml: string): Element {
  return create(xml).root().node as unknown as Element;
}
/** Child elements named `tag`. */
function kids(parent: Element | undefined, tag: string): Element[] {
  if (parent === undefined) return [];
  return Array.from(parent.childNodes).filter((n): n is Element => n.nodeType === 1 && n.nodeName === tag);
}
const kid = (parent: Element | undefined, tag: string): Element | undefined => kids(parent, tag)[0];
const attrs = (el: Element | undefined, ...names: string[]): Array<string | null> => names.map((n) => el?.getAttribute(n) ?? null);
const props = (el: Element | undefined): Record<string, string> =>
  Object.fromEntries(kids(kid(el, 'properties'), 'property').map((p) => [p.getAttribute('name') ?? '', p.getAttribute('value') ?? '']));

describe('JUnitReporter', () => {
  it('writes XML that validates against our JUnit schema', async () => {
    const xml = render(sampleRun());
    const result = await validate(xml);
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('the schema is strict enough to reject broken output', async () => {
    const xml = render(sampleRun());
    expect((await validate(xml.replace('time="1.234"', 'time="1.2"'))).valid).toBe(false);
    expect((await validate(xml.replace(/<failure /, '<failure2 ').replace('</failure>', '</failure2>'))).valid).toBe(false);
    expect((await validate(xml.replace(' hostname="bench-1"', ''))).valid).toBe(false);
  });

  it('strips characters XML 1.0 forbids and escapes the rest, keeping the text', () => {
    const xml = render(sampleRun());
    expect(xml).not.toMatch(/[\x00-\x08\x0b\x0c\x0e-\x1f\uFFFE\uFFFF]/);
    expect(xml).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(xml).not.toContain(']]>');
    const suites = kids(parse(xml), 'testsuite');
    const out = kid(suites[0], 'system-out')?.textContent ?? '';
    expect(out).toContain('[s3-a] MPY: soft reboot\n');
    expect(out).toContain('[s3-a] raw REPL; CTRL-B to exit\n');
    expect(out).toContain('[s3-a] >[32mOK[0m <tag> & "quotes" ]]> done\n');
    expect(out).toContain('emoji 😀 kept');
    // Checked on the raw XML: xmlbuilder2's own parser decodes `&amp;#0;` twice, so it cannot judge this.
    expect(xml).toContain('[s3-a] entity-like text stays literal: &amp;nbsp; &amp;#0; &amp;amp; &amp;#x41; AT&amp;T\n');
    const failure = kid(kids(suites[0], 'testcase')[1], 'failure');
    expect(failure?.getAttribute('message')).toBe('output differs second line [31m');
    expect(failure?.textContent).toContain('got: hello ]]> <b>&amp;\nline 3');
  });

  it('keeps entity-like text in names and messages literal', async () => {
    const events: RunEvent[] = [
      { type: 'suite-started', suiteId: 's', suiteName: 'a&amp;b', at: 0, boards: [] },
      { type: 'test-finished', suiteId: 's', testName: '&#0; &lt;', at: 5, durationMs: 5, outcome: 'skipped', message: '&nbsp;' },
    ];
    const xml = render(events);
    expect((await validate(xml)).valid).toBe(true);
    // Raw XML, for the reason given above.
    expect(xml).toContain('<testsuite name="a&amp;amp;b"');
    expect(xml).toContain('<testcase name="&amp;#0; &amp;lt;"');
    expect(xml).toContain('<skipped message="&amp;nbsp;"/>');
  });

  it('counts outcomes and names suites with their board set', () => {
    const root = parse(render(sampleRun()));
    expect(root.nodeName).toBe('testsuites');
    expect(attrs(root, 'name', 'tests', 'failures', 'errors', 'skipped', 'time', 'timestamp')).toEqual([
      'hil', '4', '1', '1', '1', '12.400', '2026-08-19T10:00:00',
    ]);
    const suites = kids(root, 'testsuite');
    expect(suites.map((s) => s.getAttribute('name'))).toEqual(['smoke [s3-a]', 'espnow [s3-a, s3-b]']);
    expect(attrs(suites[0], 'id', 'tests', 'failures', 'errors', 'skipped', 'time', 'hostname', 'timestamp')).toEqual([
      '0', '3', '1', '0', '1', '1.990', 'bench-1', '2026-08-19T10:00:00',
    ]);
    const cases = kids(suites[0], 'testcase');
    expect(cases.map((c) => attrs(c, 'name', 'classname', 'time'))).toEqual([
      ['boots to REPL', 'smoke', '1.234'],
      ['prints <hello> & bye', 'smoke', '0.500'],
      ['usb device', 'smoke', '0.001'],
    ]);
    expect(kid(cases[2], 'skipped')?.getAttribute('message')).toBe('needs machine.USBDevice (v1.23+)');
    expect(kid(cases[0], 'failure')).toBeUndefined();
    const error = kid(kids(suites[1], 'testcase')[0], 'error');
    expect(attrs(error, 'type', 'message')).toEqual(['error', 'TIMEOUT: no reply from s3-b within 10000 ms']);
    expect(error?.textContent).toContain('OSError: [Errno 116] ETIMEDOUT');
  });

  it('records board facts and suite/test properties', () => {
    const suites = kids(parse(render(sampleRun())), 'testsuite');
    expect(props(suites[0])).toEqual({
      boards: 's3-a',
      'board.s3-a.id': 's3-a',
      'board.s3-a.port_path': '1-1.3',
      'board.s3-a.link_url': 'rfc2217://127.0.0.1:40001',
      'board.s3-a.chip': 'esp32s3',
      'board.s3-a.mac': 'aa:bb:cc:00:00:01',
      'board.s3-a.firmware_version': 'v1.24.1',
      'board.s3-a.machine': 'Generic ESP32S3 module with ESP32S3',
      'suite.id': 'smoke#1',
      'run.id': 'run-42',
      bench: 'virtual-lab',
      'flash.skipped': 'true',
    });
    expect(props(suites[1])['board.s3-b.mac']).toBe('');
    expect(props(suites[1])['boards']).toBe('s3-a,s3-b');
    expect(props(kids(suites[0], 'testcase')[0])).toEqual({ 'boot.ms': '812' });
    expect(kid(kids(suites[0], 'testcase')[1], 'properties')).toBeUndefined();
    expect(kid(suites[1], 'system-out')?.textContent).toBe('[s3-a] sent ping\n[s3-b] waiting\n[s3-b] \n');
  });

  it('reports a test that never finished as an error, and the XML stays valid', async () => {
    const events: RunEvent[] = [
      { type: 'run-started', runId: 'r', at: 1000, suites: ['smoke'], benchName: 'b' },
      { type: 'suite-started', suiteId: 's', suiteName: 'smoke', at: 1000, boards: [boardA] },
      { type: 'test-started', suiteId: 's', testName: 'hangs', at: 1100 },
      { type: 'progress', message: 'still going', at: 5000 },
    ];
    const xml = render(events);
    expect((await validate(xml)).valid).toBe(true);
    const suite = kid(parse(xml), 'testsuite');
    expect(attrs(suite, 'tests', 'errors', 'time')).toEqual(['1', '1', '3.900']);
    expect(kid(kid(suite, 'testcase'), 'error')?.getAttribute('message')).toMatch(/did not finish/);
  });

  it('renders an empty run', async () => {
    const xml = render([]);
    expect((await validate(xml)).valid).toBe(true);
    expect(xml).toContain('tests="0"');
  });

  it('matches the snapshot after normalising timestamps, hostname and durations', async () => {
    const xml = new JUnitReporter({ hostname: 'whatever-host' });
    for (const event of sampleRun()) xml.onEvent(event);
    const normalised = xml
      .render()
      .replace(/timestamp="[^"]*"/g, 'timestamp="<timestamp>"')
      .replace(/hostname="[^"]*"/g, 'hostname="<hostname>"')
      .replace(/ time="[^"]*"/g, ' time="<seconds>"');
    await expect(normalised).toMatchFileSnapshot('./__snapshots__/junit-sample.xml');
  });

  it('close() writes the file, creating folders', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hil-junit-'));
    try {
      const path = join(dir, 'nested', 'out', 'junit.xml');
      const reporter = new JUnitReporter({ outputPath: path, hostname: 'h' });
      for (const event of sampleRun()) reporter.onEvent(event);
      await reporter.close();
      expect(await readFile(path, 'utf8')).toBe(reporter.render());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
