/**
 * Decides which boards each suite runs on, before anything is touched: a suite that cannot be placed
 * is bad input (`NOT_ENOUGH_BOARDS`), reported before any board is connected.
 */
import { HilError } from '../errors.ts';
import type { BoardEndpoint } from '../bench/board-endpoint.ts';
import type { SuiteManifest } from './suite-manifest.ts';

/** The board sets a suite runs on: each inner array is one set (one JUnit `<testsuite>`). */
export function planBoardSets(suiteRef: string, manifest: SuiteManifest, boards: readonly BoardEndpoint[]): BoardEndpoint[][] {
  const { count, placement, chips } = manifest.boards;
  const eligible = boards.filter((board) => chips === undefined || chips.includes(board.chip));
  const needed = placement === 'each-board' ? 1 : count;
  if (eligible.length < needed) {
    const what = chips === undefined ? 'boards' : `${chips.join('/')} boards`;
    throw new HilError('NOT_ENOUGH_BOARDS',
      `suite ${suiteRef} needs ${needed} ${what} but the bench offers ${eligible.length}` +
      (eligible.length < boards.length ? ` (of ${boards.length} boards in total)` : ''),
      { suite: suiteRef, needed, available: eligible.length });
  }
  if (placement === 'each-board') return eligible.map((board) => [board]);
  if (placement === 'whole-bench') return [eligible];
  return [eligible.slice(0, count)];
}
