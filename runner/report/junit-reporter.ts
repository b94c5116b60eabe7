/**
 * JUnit XML from the run-event stream, in the Jenkins/Surefire dialect CI servers read:
 *
 * ```
 * <testsuites name tests failures errors skipped time timestamp>
 *   <testsuite name="smoke [s3-a]" id tests failures errors skipped time timestamp hostname>
 *     <properties> boards (ids, comma-separated), board.<id>.{id,port_path,link_url,chip,mac,firmware_version[,machine]}, suite.id,
 *                  run.id, bench, then the suite's own properties </properties>
 *     <testcase name classname="<suite name>" time>
 *       <properties>test properties</properties>?
 *       <failure message type="failure">details</failure> | <error …> | <skipped message/>
 *     </testcase>
 *     <system-out>each board's console, every line prefixed "[board-id] "</system-out>
 *   </testsuite>
 * </testsuites>
 * ```
 * Times are seconds with three decimals; timestamps are UTC ISO 8601 without a zone. All text is
 * stripped of characters XML 1.0 forbids (serial consoles carry control bytes); xmlbuilder2 escapes
 * the rest. test/report/junit.xsd describes exactly this output.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { dirname } from 'node:path';
import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';
import type { BoardFacts, RunEvent, RunReporter } from '../suite/run-events.ts';
import { countOutcomes, countRun, RunRecorder, suiteDisplayName, type SuiteRecord, type TestRecord } from './run-record.ts';
import { junitSeconds, junitTimestamp, xmlAttr, xmlText } from './xml-text.ts';

/** Options of {@link JUnitReporter}. */
export interface JUnitReporterOptions {
  /** Where {@link JUnitReporter.close} writes the XML; parent folders are created. Omit to only render. */
  outputPath?: string;
  /** `hostname` attribute of every suite; default the machine's host name. */
  hostname?: string;
  /** `name` of `<testsuites>`; default `hil`. */
  name?: string;
}

/** Writes JUnit XML for a run. Feed it every event; call {@link close} (or {@link render}) at the end. */
export class JUnitReporter implements RunReporter {
  private readonly recorder = new RunRecorder();

  constructor(private readonly options: JUnitReporterOptions = {}) {}

  onEvent(event: RunEvent): void {
    this.recorder.onEvent(event);
  }

  /** The XML document for everything received so far. */
  render(): string {
    const run = this.recorder.snapshot();
    const totals = countRun(run);
    const doc = create({ version: '1.0', encoding: 'UTF-8' });
    const root = doc.ele('testsuites', {
      name: xmlAttr(this.options.name ?? 'hil'),
      tests: String(totals.tests),
      failures: String(totals.failed),
      errors: String(totals.errors),
      skipped: String(totals.skipped),
      time: junitSeconds(run.durationMs),
      ...(run.startedAt === undefined ? {} : { timestamp: junitTimestamp(run.startedAt) }),
    });
    const host = this.options.hostname ?? osHostname();
    run.suites.forEach((suite, index) => {
      const runFacts: Record<string, string> = { 'suite.id': suite.suiteId };
      if (run.runId !== undefined) runFacts['run.id'] = run.runId;
      if (run.benchName !== undefined) runFacts.bench = run.benchName;
      this.renderSuite(root, suite, index, host, runFacts, run.startedAt);
    });
    return doc.end({ prettyPrint: true });
  }

  /** Writes the XML to `outputPath` (when given). */
  async close(): Promise<void> {
    const path = this.options.outputPath;
    if (path === undefined) return;
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, this.render(), 'utf8');
  }

  private renderSuite(
    root: XMLBuilder,
    suite: SuiteRecord,
    index: number,
    host: string,
    runFacts: Record<string, string>,
    runStartedAt: number | undefined,
  ): void {
    const counts = countOutcomes(suite.tests);
    const startedAt = suite.startedAt ?? suite.tests[0]?.startedAt ?? runStartedAt;
    const element = root.ele('testsuite', {
      name: xmlAttr(suiteDisplayName(suite)),
      id: String(index),
      tests: String(counts.tests),
      failures: String(counts.failed),
      errors: String(counts.errors),
      skipped: String(counts.skipped),
      time: junitSeconds(suite.durationMs),
      ...(startedAt === undefined ? {} : { timestamp: junitTimestamp(startedAt) }),
      hostname: xmlAttr(host) || 'localhost',
    });
    const properties = { ...boardProperties(suite.boards), ...runFacts, ...suite.properties };
    addProperties(element, properties);
    for (const test of suite.tests) renderTest(element, suite, test);
    const console = consoleText(suite);
    if (console.length > 0) element.ele('system-out').txt(console);
  }
}

function renderTest(parent: XMLBuilder, suite: SuiteRecord, test: TestRecord): void {
  const element = parent.ele('testcase', {
    name: xmlAttr(test.name),
    classname: xmlAttr(suite.suiteName),
    time: junitSeconds(test.durationMs),
  });
  addProperties(element, test.properties);
  const message = xmlAttr(test.message ?? '');
  const details = xmlText(test.details ?? '');
  if (test.outcome === 'failed' || test.outcome === 'error') {
    const tag = test.outcome === 'failed' ? 'failure' : 'error';
    const outcome = element.ele(tag, { message, type: tag });
    if (details.length > 0) outcome.txt(details);
  } else if (test.outcome === 'skipped') {
    element.ele('skipped', message.length > 0 ? { message } : {});
  }
}

function addProperties(parent: XMLBuilder, properties: Record<string, string>): void {
  const entries = Object.entries(properties);
  if (entries.length === 0) return;
  const element = parent.ele('properties');
  for (const [name, value] of entries) element.ele('property', { name: xmlAttr(name), value: xmlAttr(value) });
}

/** `board.<id>.<fact>` for every board; empty facts (MAC not read yet) are still listed, as empty. */
function boardProperties(boards: readonly BoardFacts[]): Record<string, string> {
  const properties: Record<string, string> = { boards: boards.map((board) => board.boardId).join(',') };
  for (const board of boards) {
    const prefix = `board.${board.boardId}`;
    properties[`${prefix}.id`] = board.boardId;
    properties[`${prefix}.port_path`] = board.portPath;
    properties[`${prefix}.link_url`] = board.linkUrl;
    properties[`${prefix}.chip`] = board.chip;
    properties[`${prefix}.mac`] = board.mac;
    properties[`${prefix}.firmware_version`] = board.firmwareVersion;
    if (board.machine !== undefined) properties[`${prefix}.machine`] = board.machine;
  }
  return properties;
}

/** Each board's console with every line prefixed by `[board-id] `, boards in suite order. */
function consoleText(suite: SuiteRecord): string {
  const order = [...suite.boards.map((board) => board.boardId)];
  for (const boardId of Object.keys(suite.console)) if (!order.includes(boardId)) order.push(boardId);
  const blocks: string[] = [];
  for (const boardId of order) {
    const text = suite.console[boardId];
    if (text === undefined || text.length === 0) continue;
    const lines = xmlText(text).replace(/\n$/, '').split('\n');
    blocks.push(lines.map((line) => `[${boardId}] ${line}`).join('\n'));
  }
  return blocks.length === 0 ? '' : `${blocks.join('\n')}\n`;
}
