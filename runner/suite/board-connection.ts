/**
 * One board in use by a suite: its link, its REPL client and the facts read from it. Connecting confirms
 * identity: a board at the expected port path that reports another MAC is an infrastructure error.
 */
import type { BoardEndpoint } from '../bench/board-endpoint.ts';
import { HilError } from '../errors.ts';
import type { SerialLink } from '../link/serial-link.ts';
import type { Logger } from '../logger.ts';
import { MicroPythonRepl } from '../repl/micropython-repl.ts';
import type { BoardFacts } from './run-events.ts';

/** Opens links by URL; the composition root passes the real `openLink`, tests may pass another. */
export type LinkOpener = (url: string, options: { timeoutMs: number; signal?: AbortSignal }) => Promise<SerialLink>;

/** Board-side snippet reading the facts recorded with every suite (one Python tuple literal back). */
const FACTS_SNIPPET = [
  'import os, machine',
  'u = os.uname()',
  "print(repr((u.version.split(' ')[0], u.machine, ':'.join('%02x' % b for b in machine.unique_id()))))",
].join('\n');

export class BoardConnection {
  readonly facts: BoardFacts;

  private constructor(readonly endpoint: BoardEndpoint, readonly link: SerialLink, readonly repl: MicroPythonRepl, facts: BoardFacts) {
    this.facts = facts;
  }

  /** Opens the link, enters the raw REPL with a soft reset (clean VM, as mpremote does) and reads facts. */
  static async connect(endpoint: BoardEndpoint, openLink: LinkOpener, logger: Logger, signal?: AbortSignal): Promise<BoardConnection> {
    const link = await openLink(endpoint.linkUrl, { timeoutMs: 5000, ...(signal ? { signal } : {}) });
    const repl = new MicroPythonRepl(link, { boardId: endpoint.boardId, portPath: endpoint.portPath, logger: logger.child({ board: endpoint.boardId }) });
    try {
      await repl.enterRawRepl({ softReset: true, timeoutMs: 15_000 });
      const facts = await readFacts(endpoint, repl);
      return new BoardConnection(endpoint, link, repl, facts);
    } catch (err: unknown) {
      await link.close();
      throw err;
    }
  }

  /** Everything the board printed while connected. */
  consoleText(): string {
    return this.repl.consoleText();
  }

  async close(): Promise<void> {
    try {
      await this.repl.exitRawRepl({ timeoutMs: 2000 });
    } catch {
      // A board that does not answer any more is closed all the same.
    }
    await this.link.close();
  }
}

async function readFacts(endpoint: BoardEndpoint, repl: MicroPythonRepl): Promise<BoardFacts> {
  const result = await repl.exec(FACTS_SNIPPET, { timeoutMs: 10_000 });
  const match = /\('([^']*)', '([^']*)', '([0-9a-f:]{17})'\)/.exec(result.stdout);
  if (result.stderr !== '' || !match) {
    throw new HilError('REPL_PROTOCOL', `board ${endpoint.boardId} at ${endpoint.portPath} did not report its identity`, {
      boardId: endpoint.boardId, portPath: endpoint.portPath, phase: 'read board facts', consoleTail: `${result.stdout}${result.stderr}`,
    });
  }
  const [, firmwareVersion = '', machine = '', mac = ''] = match;
  if (endpoint.expectedMac !== undefined && endpoint.expectedMac !== mac) {
    throw new HilError('REPL_PROTOCOL', `board ${endpoint.boardId} at port path ${endpoint.portPath} reports MAC ${mac}, ` +
      `but the bench expects ${endpoint.expectedMac}: another board is plugged into that port`, {
      boardId: endpoint.boardId, portPath: endpoint.portPath, phase: 'confirm identity',
    });
  }
  return { boardId: endpoint.boardId, portPath: endpoint.portPath, linkUrl: endpoint.linkUrl, chip: endpoint.chip, mac, firmwareVersion, machine };
}
