/**
 * Reads a board's MAC and firmware version through its raw REPL, for `hil boards`. Unlike a suite's
 * connection it does not soft-reset the board, waits only briefly (a listing must not hang on a
 * boot-looping board), and reports a foreign MAC as a fact instead of failing: the caller decides.
 */
import type { BoardEndpoint } from '../bench/board-endpoint.ts';
import { HilError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Clock } from '../repl/clock.ts';
import { MicroPythonRepl } from '../repl/micropython-repl.ts';
import type { LinkOpener } from '../suite/board-connection.ts';
import type { ProbedFacts } from './boards-report.ts';

/** How long each step (open, enter the raw REPL, run the snippet) may take by default, in milliseconds. */
export const DEFAULT_PROBE_TIMEOUT_MS = 5000;

export interface ProbeOptions {
  openLink: LinkOpener;
  logger: Logger;
  /** Deadline of each step in milliseconds. Default {@link DEFAULT_PROBE_TIMEOUT_MS}. */
  timeoutMs?: number;
  signal?: AbortSignal;
  clock?: Clock;
}

/** One Python tuple literal back: (version, machine, MAC). `machine.unique_id()` is the base MAC on ESP32 chips. */
const FACTS_SNIPPET = [
  'import os, machine',
  'u = os.uname()',
  "print(repr((u.version.split(' ')[0], u.machine, ':'.join('%02x' % b for b in machine.unique_id()))))",
].join('\n');

const FACTS_REPLY = /\('([^']*)', '([^']*)', '([0-9a-f]{2}(?::[0-9a-f]{2}){5})'\)/;

/**
 * Opens the board's link, enters the raw REPL (Ctrl-C first, so a running program is interrupted),
 * reads the facts, leaves the board at the friendly prompt and closes the link.
 * Errors: as `openLink` (PORT_IN_USE, PORT_UNREACHABLE, …), TIMEOUT, LINK_GONE, ABORTED, and
 * REPL_PROTOCOL when the board answers but not with its facts.
 */
export async function probeBoard(endpoint: BoardEndpoint, options: ProbeOptions): Promise<ProbedFacts> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const signal = options.signal === undefined ? {} : { signal: options.signal };
  const link = await options.openLink(endpoint.linkUrl, { timeoutMs, ...signal });
  const repl = new MicroPythonRepl(link, {
    boardId: endpoint.boardId, portPath: endpoint.portPath, logger: options.logger.child({ board: endpoint.boardId }),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  try {
    await repl.enterRawRepl({ timeoutMs, ...signal });
    const result = await repl.exec(FACTS_SNIPPET, { timeoutMs, ...signal });
    const match = FACTS_REPLY.exec(result.stdout);
    if (result.stderr !== '' || !match) {
      throw new HilError('REPL_PROTOCOL', `board ${endpoint.boardId} at ${endpoint.portPath} did not report its MAC and firmware version`, {
        boardId: endpoint.boardId, portPath: endpoint.portPath, phase: 'read board facts', consoleTail: `${result.stdout}${result.stderr}`,
      });
    }
    const [, firmwareVersion = '', machine = '', mac = ''] = match;
    await repl.exitRawRepl({ timeoutMs }).catch(() => {
      // The facts are read; a board that does not show its friendly prompt again is still listed.
    });
    return { mac, firmwareVersion, machine };
  } finally {
    repl.dispose();
    await link.close();
  }
}
