/**
 * Which board plays which instance. By default instance i runs on board i; on request every
 * assignment of distinct boards to the instances is run, as run-multitests.py's `-p N` repeats a test
 * with N permutations of its instance order (§6.10 of /work/shared/reference/micropython-host-protocols.md).
 */
import { HilError } from '../errors.ts';
import type { MultitestBoard } from './board-instance.ts';
import { runMultitest, type RunMultitestOptions } from './multitest-engine.ts';
import type { MultitestFile } from './multitest-file.ts';
import type { MultitestResult } from './multitest-result.ts';

/**
 * The assignments of `boardCount` boards to `instanceCount` instances, each a list of board indices
 * (entry i = the board of instance i), in lexicographic order starting with the identity; at most
 * `limit` of them. Throws `NOT_ENOUGH_BOARDS` when there are fewer boards than instances.
 */
export function roleAssignments(instanceCount: number, boardCount: number, limit = Infinity): number[][] {
  if (boardCount < instanceCount) {
    throw new HilError('NOT_ENOUGH_BOARDS', `${instanceCount} instances need ${instanceCount} boards but only ${boardCount} were given`,
      { needed: instanceCount, available: boardCount });
  }
  const out: number[][] = [];
  const chosen: number[] = [];
  const used = new Set<number>();
  const extend = (): void => {
    if (out.length >= limit) return;
    if (chosen.length === instanceCount) {
      out.push([...chosen]);
      return;
    }
    for (let board = 0; board < boardCount; board++) {
      if (used.has(board)) continue;
      chosen.push(board);
      used.add(board);
      extend();
      used.delete(board);
      chosen.pop();
    }
  };
  extend();
  return out;
}

/** Options of {@link runMultitestRoles}. */
export interface RunMultitestRolesOptions extends RunMultitestOptions {
  /** How many assignments to run: 1 (default, instance i on board i), a number, or `all`. */
  assignments?: number | 'all';
}

/**
 * Runs `file` once per assignment of boards to instances, one after another (each run uses all the
 * boards it names). Bad input (too few boards) is thrown before any board is touched.
 */
export async function runMultitestRoles(file: MultitestFile, boards: readonly MultitestBoard[],
  options: RunMultitestRolesOptions = {}): Promise<MultitestResult[]> {
  const limit = options.assignments === 'all' ? Infinity : options.assignments ?? 1;
  const results: MultitestResult[] = [];
  for (const assignment of roleAssignments(file.instanceCount, boards.length, limit)) {
    if (options.signal?.aborted) throw new HilError('ABORTED', `${file.name}: cancelled before the next assignment of boards`, { file: file.path }, { cause: options.signal.reason });
    results.push(await runMultitest(file, assignment.map((index) => boards[index]!), options));
  }
  return results;
}
